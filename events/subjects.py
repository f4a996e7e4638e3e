"""The names of the streams and subjects events go to, and NATS subject matching.

One installation (one outbox) per pair of streams: the outbox seq is its `Nats-Msg-Id`,
and JetStream de-duplicates by that id within a stream, so two installations in one stream
would drop each other's events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PUBLIC_PREFIX = "lapor"
RESTRICTED_PREFIX = "lapor_restricted"
RESTRICTED_SUFFIX = "_RESTRICTED"
DEFAULT_SUBJECT = f"{PUBLIC_PREFIX}.>"

# A kind is dotted words (`case.ditindaklanjuti`, `sla.verifikasi_terlambat`): each word one
# subject token, never a wildcard or a space.
_KIND = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


@dataclass(frozen=True)
class Streams:
    """The public stream (every event, the content of `rahasia` complaints withheld) and the
    restricted one (the whole event of `rahasia` complaints) of one installation."""

    public: str
    profile: str

    @property
    def restricted(self) -> str:
        return f"{self.public}{RESTRICTED_SUFFIX}"

    @property
    def public_subjects(self) -> str:
        return f"{PUBLIC_PREFIX}.{self.profile}.>"

    @property
    def restricted_subjects(self) -> str:
        return f"{RESTRICTED_PREFIX}.{self.profile}.>"

    def public_subject(self, kind: str) -> str:
        return f"{PUBLIC_PREFIX}.{self.profile}.{_checked(kind)}"

    def restricted_subject(self, kind: str) -> str:
        return f"{RESTRICTED_PREFIX}.{self.profile}.{_checked(kind)}"


def _checked(kind: str) -> str:
    if not _KIND.match(kind):
        raise ValueError(f"an outbox kind that is no NATS subject: {kind!r}")
    return kind


def covers(pattern: str, subject: str) -> bool:
    """Whether every subject `subject` matches (wildcards and all) also matches `pattern`:
    `lapor.>` covers `lapor.ketapang.>`, not the other way round."""
    wanted, given = pattern.split("."), subject.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(given) > i
        if i >= len(given) or given[i] == ">":
            return False
        if token not in ("*", given[i]):
            return False
    return len(wanted) == len(given)


def collide(a: str, b: str) -> bool:
    """Whether some subject matches both patterns."""
    left, right = a.split("."), b.split(".")
    for i in range(max(len(left), len(right))):
        x = left[i] if i < len(left) else None
        y = right[i] if i < len(right) else None
        if x is None or y is None:
            return False
        if ">" in (x, y):
            return True
        if "*" not in (x, y) and x != y:
            return False
    return True
