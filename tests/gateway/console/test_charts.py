"""The console's SVG charts (gateway/console/charts.py): well-formed, accessible, no style
attribute, one bar per value that is not 0, sized in proportion, readable colours."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.console import charts
from gateway.console.charts import Bar, Column, Series

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def bars_of(svg: ET.Element) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if "data-value" in r.attrib]


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_colour_stands_out_on_white() -> None:
    """Graphics need 3:1 against their background (WCAG 1.4.11), text 4.5:1."""
    colours = [*charts.PALETTE, charts.GOOD, charts.BAD, charts.CLOSED]
    assert len(set(colours)) == len(colours)
    for colour in colours:
        assert contrast(colour, "#ffffff") >= 3, colour
    for colour in (charts.INK, charts.MUTED):
        assert contrast(colour, "#ffffff") >= 4.5, colour


@pytest.mark.parametrize(
    ("value", "written"),
    [(0, "0"), (5.0, "5"), (66.7, "66,7"), (1234, "1.234"), (1234.5, "1.234,5"), (50.0, "50")],
)
def test_numbers_are_written_the_indonesian_way(value: float, written: str) -> None:
    assert charts.number(value) == written


def test_bars_draw_one_rect_per_value_that_is_not_zero() -> None:
    items = [Bar("Jalan", 8, "8", key="jalan"), Bar("Air", 0, "0"), Bar("Sekolah", 2, "2")]
    svg = parsed(charts.bars("b", "Judul", "Keterangan.", items))
    assert [r.attrib["data-value"] for r in bars_of(svg)] == ["8", "2"]
    widths = [float(r.attrib["width"]) for r in bars_of(svg)]
    assert widths[0] == pytest.approx(4 * widths[1], rel=0.01)  # in proportion
    assert widths[0] <= charts.WIDTH
    # The bar of 0 has its label and its number, no rect.
    assert {"Jalan", "Air", "Sekolah", "0"} <= set(texts(svg))
    assert not [e for e in svg.iter() if "style" in e.attrib]


def test_a_chart_is_an_image_named_and_described_for_screen_readers() -> None:
    svg = parsed(charts.bars("grafik-x", "Judul", "Keterangan.", [Bar("Jalan", 3, "3")]))
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-labelledby"] == "grafik-x-title grafik-x-desc"
    assert svg.attrib["width"] == "100%"
    assert svg.attrib["viewBox"].startswith(f"0 0 {charts.WIDTH} ")
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and title.text == "Judul"
    # The description lists the values: a screen reader does not read the drawing.
    assert desc is not None and desc.text == "Keterangan. Jalan: 3."


def test_labels_are_escaped_and_long_ones_cut_but_described_in_full() -> None:
    name = "Dinas <Pekerjaan> Umum & Penataan Ruang, Perumahan dan Kawasan Permukiman Kabupaten"
    svg = parsed(charts.bars("b", "T", "D.", [Bar(name, 1, "1")]))
    [label] = [t for t in texts(svg) if t.startswith("Dinas")]
    assert label.endswith("…") and len(label) < len(name)
    assert name.startswith(label[:-1])
    desc = svg.find(f"{SVG}desc")
    assert desc is not None and name in (desc.text or "")
    [bar] = bars_of(svg)
    tip = bar.find(f"{SVG}title")
    assert tip is not None and tip.text == f"{name}: 1"


def test_a_small_value_stays_visible() -> None:
    svg = parsed(charts.bars("b", "T", "D.", [Bar("A", 1000, "1000"), Bar("B", 1, "1")]))
    assert float(bars_of(svg)[1].attrib["width"]) >= 2


def test_the_target_line_crosses_every_bar_at_the_target() -> None:
    items = [Bar("A", 95, "95%", charts.GOOD), Bar("B", 40, "40%", charts.BAD)]
    svg = parsed(charts.bars("b", "T", "D.", items, scale=100, target=90, target_label="Target"))
    [target] = [g for g in svg.iter(f"{SVG}g") if "data-target" in g.attrib]
    assert target.attrib["data-target"] == "90"
    lines = list(target.iter(f"{SVG}line"))
    assert len(lines) == 1 + len(items)
    room = charts.WIDTH - 84
    assert [float(line.attrib["x1"]) for line in lines] == pytest.approx(
        [0.9 * room] * len(lines), abs=0.1
    )
    full = float(bars_of(svg)[0].attrib["width"])
    assert full == pytest.approx(0.95 * room, abs=0.1)
    assert "Target" in texts(svg)


def test_no_bars_says_so() -> None:
    svg = parsed(charts.bars("b", "T", "D.", [], empty="Belum ada."))
    assert bars_of(svg) == [] and "Belum ada." in texts(svg)


SERIES = [Series("sms", "SMS 1708", charts.PALETTE[0]), Series("web", "Web", charts.PALETTE[1])]


def test_stacked_columns_stack_each_series_and_total_each_column() -> None:
    columns = [
        Column("3 Agu", "Pekan 3–9 Agustus 2026", {"sms": 3, "web": 1}, key="2026-W32"),
        Column("10 Agu", "Pekan 10–16 Agustus 2026", {"web": 2}, key="2026-W33"),
        Column("17 Agu", "Pekan 17–23 Agustus 2026", {}, key="2026-W34"),
    ]
    svg = parsed(charts.stacked_columns("c", "T", "D.", columns, SERIES))
    groups = [g for g in svg.iter(f"{SVG}g") if "data-total" in g.attrib]
    assert [(g.attrib["data-key"], g.attrib["data-total"]) for g in groups] == [
        ("2026-W32", "4"),
        ("2026-W33", "2"),
        ("2026-W34", "0"),
    ]
    first = {r.attrib["data-series"]: r for r in groups[0].iter(f"{SVG}rect")}
    assert set(first) == {"sms", "web"}
    # Stacked: web sits on top of sms, touching it.
    sms, web = first["sms"], first["web"]
    assert float(web.attrib["y"]) + float(web.attrib["height"]) == pytest.approx(
        float(sms.attrib["y"]), abs=0.15
    )
    assert float(sms.attrib["height"]) == pytest.approx(3 * float(web.attrib["height"]), rel=0.01)
    assert len(bars_of(svg)) == 3
    assert {"3 Agu", "10 Agu", "17 Agu", "SMS 1708", "Web"} <= set(texts(svg))
    legend = [g.attrib["data-legend"] for g in svg.iter(f"{SVG}g") if "data-legend" in g.attrib]
    assert legend == ["sms", "web"]


def test_many_columns_label_every_few() -> None:
    """A year of weeks: every column drawn, only some labelled so labels never overlap."""
    columns = [Column(f"{i} Jan", f"Pekan {i}", {"sms": i % 3}, key=f"w{i}") for i in range(53)]
    svg = parsed(charts.stacked_columns("c", "T", "D.", columns, SERIES))
    groups = [g for g in svg.iter(f"{SVG}g") if "data-total" in g.attrib]
    assert len(groups) == 53
    labelled = [t for t in texts(svg) if t.endswith(" Jan")]
    assert 2 <= len(labelled) <= 10
    assert len(bars_of(svg)) == sum(1 for i in range(53) if i % 3)


def test_columns_without_complaints_say_so() -> None:
    columns = [Column("5 Jan", "Pekan 5–11 Januari 2026", {})]
    svg = parsed(charts.stacked_columns("c", "T", "D.", columns, [], empty="Kosong."))
    assert bars_of(svg) == [] and "Kosong." in texts(svg)


@given(st.integers(min_value=0, max_value=10**7))
def test_the_scale_has_at_most_five_lines_and_reaches_the_largest(largest: int) -> None:
    step, top = charts._scale(largest)
    assert top >= largest and top % step == 0
    assert top // step <= 4
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert mantissa in (1, 2, 5)
