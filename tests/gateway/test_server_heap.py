"""What the serving process does with the objects its start-up built."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from gateway.server import freeze_start_up_objects


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_start_up_objects_are_frozen_and_garbage_is_not(unfrozen: None) -> None:
    kept = _Node()
    garbage, other = _Node(), _Node()
    garbage.other, other.other = other, garbage  # a cycle only the collector frees
    gone = weakref.ref(garbage)
    del garbage, other
    before = gc.get_freeze_count()

    freeze_start_up_objects()

    assert gone() is None  # collected, not frozen for good
    assert gc.get_freeze_count() > before
    assert all(kept is not obj for obj in gc.get_objects())  # out of the collector's walk
