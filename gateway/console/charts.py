"""Charts as SVG drawn on the server: no script, no style sheet and no `style` attribute
(the pages' Content-Security-Policy allows none), only SVG's presentation attributes
(`fill`, `stroke`, `font-size`), so they render offline, in print and on any browser.

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`
(which lists every value, since a screen reader does not read the drawing), scales to its
container (`viewBox`, `width="100%"`) and is drawn 400 units wide, about a phone's width,
so its 12–13 unit labels stay readable at 390 px. Every bar is a `<rect data-value="…">`
with a `<title>` (a tooltip); a value of 0 draws no bar, only its label and number.

Pure: values in, markup out. The page decides the words, these functions the geometry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

PALETTE: tuple[str, ...] = (
    "#0072b2",  # blue
    "#d55e00",  # vermilion
    "#009e73",  # bluish green
    "#6a1b9a",  # purple
    "#8e6c00",  # ochre
    "#ad1457",  # magenta
    "#546e7a",  # blue grey
    "#cc79a7",  # reddish purple
    "#5d4037",  # brown
    "#827717",  # olive
)
"""Okabe–Ito's colours (told apart with the common colour-vision deficiencies) with the
light ones darkened: every colour has a contrast of at least 3:1 against white, what WCAG
asks of graphics. Stacked segments are also parted by a white line."""
INK = "#1b1b1b"
MUTED = "#555555"
GRID = "#d6d6d6"
GOOD = "#2e7d32"
BAD = "#b00020"
CLOSED = "#6b6b6b"

WIDTH = 400
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
LABEL_SIZE = 13
VALUE_SIZE = 12
CHAR_WIDTH = 0.56
"""A character's average width, in font sizes (for wrapping and cutting labels)."""


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: its label above it, its number after it."""

    label: str
    value: float
    shown: str
    """The number as written after the bar ('12', '85,7% (6/7)')."""
    colour: str = PALETTE[0]
    key: str = ""
    note: str = ""
    """Added to the bar's tooltip ('di bawah target')."""


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Column:
    """One column of a stacked column chart: its label under it, a value per series."""

    label: str
    title: str
    """What the column stands for, in full ('Pekan 10–16 Agustus 2026')."""
    values: Mapping[str, int]
    key: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


def number(value: float) -> str:
    """A number as Indonesians write it: '1.234', '66,7', '5' (not '5,0')."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    text = f"{value:,.1f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def bars(
    ident: str,
    title: str,
    desc: str,
    items: Sequence[Bar],
    *,
    scale: float | None = None,
    target: float | None = None,
    target_label: str = "",
    empty: str = "Tidak ada data.",
) -> Markup:
    """Horizontal bars, one under another, each with its label on a line of its own (long
    agency names fit a phone); `scale` is the value of a full-width bar (the largest value
    if not given); `target` draws a dashed line across every bar at that value."""
    top = 30 if target is not None else 6
    row = 44
    room = WIDTH - 84  # the longest bar leaves room for its number
    full = scale if scale is not None else max((b.value for b in items), default=0)
    full = full or 1
    parts: list[str] = []
    for i, b in enumerate(items):
        y = top + i * row
        parts.append(f'<g data-key="{escape(b.key)}">')
        parts.append(_text(0, y + 14, _cut(b.label, LABEL_SIZE, WIDTH), size=LABEL_SIZE))
        width = min(room, b.value / full * room)
        if b.value > 0:
            width = max(width, 2.0)  # a small value stays visible
            tip = f"{b.label}: {b.shown}" + (f" ({b.note})" if b.note else "")
            parts.append(
                f'<rect x="0" y="{y + 20}" width="{width:.1f}" height="16" fill="{b.colour}" '
                f'data-value="{_plain(b.value)}"><title>{escape(tip)}</title></rect>'
            )
        parts.append(_text(width + 6, y + 32.5, b.shown, size=VALUE_SIZE))
        parts.append("</g>")
    height = top + len(items) * row + 6
    if not items:
        height = 60
        parts.append(_text(WIDTH / 2, 34, empty, fill=MUTED, anchor="middle"))
    elif target is not None:
        x = min(room, target / full * room)
        anchor = "end" if x > WIDTH / 2 else "start"
        label_x = x + (-4 if anchor == "end" else 4)
        # Across each bar, not its label: the line would cross out a long agency name.
        lines = "".join(
            f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y2}" stroke="{INK}" '
            'stroke-width="2" stroke-dasharray="4 3"/>'
            for y1, y2 in [(top - 10, top + 1)]
            + [(top + i * row + 17, top + i * row + 39) for i in range(len(items))]
        )
        parts.append(
            f'<g data-target="{_plain(target)}">{lines}'
            + _text(label_x, top - 14, target_label, size=VALUE_SIZE, anchor=anchor, bold=True)
            + "</g>"
        )
    listed = "; ".join(f"{b.label}: {b.shown}" for b in items) or empty
    return _svg(ident, "bars", title, f"{desc} {listed}.", height, parts)


def stacked_columns(
    ident: str,
    title: str,
    desc: str,
    columns: Sequence[Column],
    series: Sequence[Series],
    *,
    empty: str = "Tidak ada data.",
) -> Markup:
    """Columns side by side, each a stack of its series' values from the bottom (in the
    order of `series`), with a scale at the left, the columns' labels under them (every
    few when there are many) and a legend of the series."""
    left, right, top, plot = 34, 6, 20, 180
    inner = WIDTH - left - right
    totals = [sum(c.values.get(s.key, 0) for s in series) for c in columns]
    step, ceiling = _scale(max(totals, default=0))
    bottom = top + plot
    parts: list[str] = []
    for n in range(0, ceiling + 1, step):
        y = bottom - n / ceiling * plot
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(left - 5, y + 4, number(n), size=VALUE_SIZE, fill=MUTED, anchor="end"))
    band = inner / max(len(columns), 1)
    width = band * 0.7 if band >= 4 else band
    longest = max((len(c.label) for c in columns), default=1)
    every = max(1, math.ceil(len(columns) / max(1, int(inner // (longest * 6.5 + 10)))))
    for i, (column, total) in enumerate(zip(columns, totals, strict=True)):
        x = left + i * band + (band - width) / 2
        attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in column.data.items())
        parts.append(f'<g data-key="{escape(column.key)}" data-total="{total}"{attrs}>')
        y = float(bottom)
        for s in series:
            value = column.values.get(s.key, 0)
            if value <= 0:
                continue
            h = value / ceiling * plot
            y -= h
            tip = f"{column.title} · {s.label}: {number(value)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}" stroke="#ffffff" stroke-width="0.75" '
                f'data-series="{escape(s.key)}" data-value="{value}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        centre = left + (i + 0.5) * band
        if total and len(columns) <= 16:
            parts.append(_text(centre, y - 4, number(total), size=11, anchor="middle"))
        if i % every == 0:
            parts.append(_text(centre, bottom + 16, column.label, size=11, anchor="middle"))
        parts.append("</g>")
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - right}" y2="{bottom}" stroke="{MUTED}" '
        'stroke-width="1"/>'
    )
    if not any(totals):
        parts.append(_text(left + inner / 2, top + plot / 2, empty, fill=MUTED, anchor="middle"))
    legend, legend_height = _legend(series, bottom + 30)
    parts += legend
    listed = "; ".join(
        f"{c.title}: {number(t)}"
        + (
            " ("
            + ", ".join(
                f"{s.label} {number(c.values[s.key])}" for s in series if c.values.get(s.key)
            )
            + ")"
            if t
            else ""
        )
        for c, t in zip(columns, totals, strict=True)
    )
    height = bottom + 30 + legend_height
    return _svg(ident, "columns", title, f"{desc} {listed or empty}.", height, parts)


def _legend(series: Sequence[Series], top: float) -> tuple[list[str], float]:
    """The series' swatches and names, in rows that wrap at the chart's width."""
    parts: list[str] = []
    x, y = 0.0, top
    for s in series:
        label = _cut(s.label, VALUE_SIZE, WIDTH - 18)
        width = 18 + len(label) * VALUE_SIZE * CHAR_WIDTH + 14
        if x and x + width > WIDTH:
            x, y = 0.0, y + 20
        parts.append(
            f'<g data-legend="{escape(s.key)}"><rect x="{x:.1f}" y="{y - 10}" width="12" '
            f'height="12" fill="{s.colour}"/>' + _text(x + 17, y, label, size=VALUE_SIZE) + "</g>"
        )
        x += width
    return parts, (y - top + 14 if series else 0)


def _scale(largest: int) -> tuple[int, int]:
    """A step of 1, 2 or 5 times a power of ten giving at most five lines, and the top of
    the scale (a whole number of steps at or above `largest`)."""
    if largest <= 0:
        return 1, 4
    raw = largest / 4
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step, math.ceil(largest / step) * step


def _svg(ident: str, kind: str, title: str, desc: str, height: float, parts: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
        f'{height:.0f}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" id="{ident}" data-chart="{kind}" '
        f'font-family="{FONT}" font-size="{LABEL_SIZE}" fill="{INK}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(parts) + "</svg>")


def _text(
    x: float,
    y: float,
    words: str,
    *,
    size: int = LABEL_SIZE,
    fill: str = INK,
    anchor: str = "start",
    bold: bool = False,
) -> str:
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}"{weight}>{escape(words)}</text>'
    )


def _cut(words: str, size: int, room: float) -> str:
    """`words`, cut with an ellipsis where they would run past `room` (the full words are
    in the chart's description and the bar's tooltip)."""
    fits = int(room / (size * CHAR_WIDTH))
    return words if len(words) <= fits else words[: fits - 1].rstrip() + "…"


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
