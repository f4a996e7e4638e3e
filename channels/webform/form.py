"""The citizen web form: what its HTML fields mean."""

from __future__ import annotations

from collections.abc import Mapping

from channels.complaint_fields import ComplaintFields

CHECKBOXES = ("anonymous", "confidential")
# Fields the page carries for the gateway itself, not for the complaint.
CONTROL_FIELDS = ("csrf_token",)
MAX_FIELD_BYTES = 64 * 1024


def form_to_fields(form: Mapping[str, str]) -> dict[str, object]:
    """HTML form values as ComplaintFields input: an unticked checkbox is simply absent,
    and an empty input means 'not given'."""
    data: dict[str, object] = {
        name: value
        for name, value in form.items()
        if name not in CHECKBOXES and name not in CONTROL_FIELDS and value.strip()
    }
    for name in CHECKBOXES:
        data[name] = form.get(name, "").lower() in {"on", "1", "true", "ya"}
    return data


KNOWN_FIELDS = frozenset(ComplaintFields.model_fields) | set(CONTROL_FIELDS)
