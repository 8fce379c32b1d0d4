"""The only reader of os.environ: typed accessors with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = BASE_DIR / ".ledger"


class MissingSetting(RuntimeError):
    """A setting that production cannot run without is not set."""


def environment() -> str:
    """One of development, test, production."""
    value = os.environ.get("LEDGER_ENV", "development").strip().lower()
    if value not in {"development", "test", "production"}:
        raise MissingSetting(f"LEDGER_ENV must be development, test or production, not {value!r}")
    return value


def is_production() -> bool:
    return environment() == "production"


def text(name: str, default: str | None = None, *, required_in_production: bool = False) -> str:
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    if required_in_production and is_production():
        raise MissingSetting(f"{name} must be set when LEDGER_ENV=production")
    if default is None:
        raise MissingSetting(f"{name} is not set")
    return default


def optional(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise MissingSetting(f"{name} must be a boolean (true/false), not {value!r}")


def integer(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise MissingSetting(f"{name} must be an integer, not {value!r}") from exc


def csv(name: str, default: str) -> list[str]:
    return [part.strip() for part in text(name, default).split(",") if part.strip()]
