"""The citizen's own steps: an answer to the Admin Penghubung's question (by SMS or on the
status page with a code) returns the case for verification; a rating closes the answered
case, or the first "not satisfied" sends it back to the agency."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running, eventually, file_complaint
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.sms_support import NEIGHBOUR, TEXT, tracking_id_in, twilio_sms
from tests.gateway.workflow_support import (
    AGENCY,
    Team,
    case_of,
    must,
    opened,
    team,
    texts_to,
    to_state,
    walk_to,
)

QUESTION = "Di RT berapa tepatnya lubang itu, dan sejak kapan?"


async def status_json(running: Running, tracking_id: str) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    async with running.http.get(f"/status/{tracking_id}", headers=headers) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def post_json(running: Running, path: str, body: dict[str, Any]) -> tuple[int, str]:
    async with running.http.post(path, json=body) as response:
        return response.status, (await response.json())["message"]


async def held(running: Running, t: Team, tracking_id: str) -> dict[str, Any]:
    await opened(running)
    return await must(running, t.penghubung, tracking_id, "tunda", question=QUESTION)


async def test_an_sms_answer_to_the_question_returns_the_case_for_verification(
    sms_gateway: Running, twilio: FakeTwilio
) -> None:
    t = await team(sms_gateway)
    tracking_id = tracking_id_in((await twilio_sms(sms_gateway, TEXT))[1])
    on_hold = await held(sms_gateway, t, tracking_id)
    assert on_hold["case"]["state"] == "ditunda"
    [asked] = await texts_to(twilio, 1)
    assert QUESTION in asked and f"TAMBAH {tracking_id}" in asked

    # From another number the case is nobody's business: that "answer" is a new complaint.
    _, other = await twilio_sms(sms_gateway, f"TAMBAH {tracking_id} RT 05", sender=NEIGHBOUR)
    assert "tidak ditemukan" in other
    _, reply = await twilio_sms(sms_gateway, f"TAMBAH {tracking_id} RT 05, sejak Juni.")
    assert "Tambahan keterangan" in reply
    back = await to_state(sms_gateway, t.penghubung, tracking_id, "diterima")
    assert back["case"]["due_at"] == on_hold["case"]["due_at"]  # a hold pauses no deadline
    steps = [(e["kind"], e["actor"], e["note"]) for e in back["timeline"]]
    assert ("case.jawaban_warga", "warga", "RT 05, sejak Juni.") in steps
    assert steps.count(("complaint.followup", "sms", "RT 05, sejak Juni.")) == 1


async def test_a_status_page_answer_needs_the_code_sent_to_the_citizen(
    web_gateway: Running, twilio: FakeTwilio
) -> None:
    sms_gateway = web_gateway
    t = await team(sms_gateway)
    # A web complaint with a phone number: its messages go by SMS (the default sender).
    tracking_id = await file_complaint(sms_gateway, "web", text=TEXT, phone="0812 3456 7890")
    await held(sms_gateway, t, tracking_id)
    public = await status_json(sms_gateway, tracking_id)
    assert public["may_reply"] and public["question"] == QUESTION and not public["may_rate"]

    path = f"/status/{tracking_id}"
    assert (await post_json(sms_gateway, f"{path}/reply", {"kode": "000000", "text": "RT 5"}))[
        0
    ] == 403
    assert (await post_json(sms_gateway, f"{path}/code", {}))[0] == 202
    assert (await post_json(sms_gateway, f"{path}/code", {}))[0] == 429  # not again so soon
    [_, code_sms] = await texts_to(twilio, 2)
    assert tracking_id in code_sms
    code = code_sms.split("Kode untuk laporan ")[1].split(": ")[1][:6]
    status, _ = await post_json(sms_gateway, f"{path}/reply", {"kode": code, "text": "RT 05."})
    assert status == 202
    await to_state(sms_gateway, t.penghubung, tracking_id, "diterima")
    # A sent code is used once.
    again = {"kode": code, "text": "Sekali lagi."}
    assert (await post_json(sms_gateway, f"{path}/reply", again))[0] == 409  # not on hold now
    _, detail = await case_of(sms_gateway, t.utama, tracking_id)
    said = [m for m in detail["messages"] if m["purpose"] == "code"]
    assert said and all(m["text"] is None for m in said)  # staff never see the code
    assert code not in str(detail)


async def test_five_wrong_codes_end_the_code(web_gateway: Running, twilio: FakeTwilio) -> None:
    sms_gateway = web_gateway
    t = await team(sms_gateway)
    tracking_id = await file_complaint(sms_gateway, "web", text=TEXT, phone="0812 3456 7890")
    await held(sms_gateway, t, tracking_id)
    path = f"/status/{tracking_id}"
    await post_json(sms_gateway, f"{path}/code", {})
    code = (await texts_to(twilio, 2))[1].split(": ")[1][:6]
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        assert (await post_json(sms_gateway, f"{path}/reply", {"kode": wrong, "text": "x"}))[
            0
        ] == 403
    status, message = await post_json(sms_gateway, f"{path}/reply", {"kode": code, "text": "x"})
    assert status == 403 and "Terlalu banyak kode salah" in message


async def test_not_satisfied_twice_reopens_once_then_closes(
    sms_gateway: Running, twilio: FakeTwilio
) -> None:
    t = await team(sms_gateway)
    tracking_id = tracking_id_in((await twilio_sms(sms_gateway, TEXT))[1])
    _, early = await twilio_sms(sms_gateway, f"PUAS {tracking_id}")
    assert "belum dijawab" in early  # nothing to rate yet
    await walk_to(sms_gateway, t, tracking_id, "dijawab")

    _, reopened = await twilio_sms(sms_gateway, f"TIDAK PUAS {tracking_id} lubang masih ada")
    assert "ditindaklanjuti kembali" in reopened
    again = await to_state(sms_gateway, t.utama, tracking_id, "didisposisi")
    assert again["case"]["rating"] == "tidak_puas" and again["case"]["closed_at"] is None
    assert again["case"]["due_at"] is not None  # completion counts again

    await must(sms_gateway, t.pejabat, tracking_id, "tindak_lanjut", text="Ditinjau ulang.")
    await must(sms_gateway, t.opd, tracking_id, "konsep", perihal="Ulang", isi="Ditambal lagi.")
    await must(sms_gateway, t.opd, tracking_id, "ajukan")
    second = await must(sms_gateway, t.pejabat, tracking_id, "setujui")
    assert [n["number"][:3] for n in second["notas"]] == ["001", "002"]
    await must(sms_gateway, t.opd, tracking_id, "terbitkan")
    _, thanks = await twilio_sms(sms_gateway, f"TIDAK PUAS {tracking_id} masih belum")
    assert "terima kasih atas penilaian" in thanks
    closed = await to_state(sms_gateway, t.utama, tracking_id, "selesai")
    assert closed["case"]["rating"] == "tidak_puas" and closed["case"]["closed_at"]
    public = await status_json(sms_gateway, tracking_id)
    assert public["answer"]["text"].endswith("Ditambal lagi.")  # the latest answer


async def test_a_desk_receipt_code_rates_the_answer_on_the_status_page(
    gateway: Running,
) -> None:
    t = await team(gateway)
    body = {
        "channel": "phone",
        "text": "Lampu jalan di Jalan Merdeka mati sepekan.",
        "anonymous": True,
    }
    async with gateway.http.post(
        "/api/v1/desk/complaints",
        json=body,
        headers={"Authorization": "Bearer desk-token-budi-0001"},
    ) as response:
        created = await response.json()
        assert response.status == 201, created
    tracking_id, code = created["tracking_id"], created["citizen_code"]
    await walk_to(gateway, t, tracking_id, "dijawab")
    status, message = await post_json(
        gateway, f"/status/{tracking_id}/rating", {"kode": code, "rating": "puas", "text": ""}
    )
    assert status == 202, message
    done = await to_state(gateway, t.utama, tracking_id, "selesai")
    assert done["case"]["rating"] == "puas"
    await eventually(lambda: status_json(gateway, tracking_id), lambda s: s["state"] == "selesai")
    assert AGENCY in str(done["agencies"])
