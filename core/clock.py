"""The clock every command reads, so tests can move time without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: list[datetime] = []


def now() -> datetime:
    """The current time in UTC, with microsecond precision (what PostgreSQL stores)."""
    if _frozen:
        return _frozen[-1]
    return datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze now() at `at` for the block; FrozenClock.advance moves it forward."""
    if at.tzinfo is None:
        raise ValueError("a frozen time must be timezone-aware")
    _frozen.append(at.astimezone(UTC))
    clock = FrozenClock()
    try:
        yield clock
    finally:
        _frozen.pop()


class FrozenClock:
    def advance(self, delta: timedelta) -> datetime:
        _frozen[-1] = _frozen[-1] + delta
        return _frozen[-1]

    def set(self, at: datetime) -> datetime:
        _frozen[-1] = at.astimezone(UTC)
        return _frozen[-1]


__all__ = ["FrozenClock", "frozen", "now"]
