"""The import contracts (pyproject.toml, checked by `lint-imports`) cover every product package:
a new app is analysed, and its commands are protected like the others'."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PRODUCT = {"tests", "bench", "scripts"}


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _product_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_PRODUCT and not path.parent.name.startswith(".")
    }


def test_every_product_package_is_a_root_package_when_it_exists():
    assert set(_config()["root_packages"]) == _product_packages()


def test_every_app_with_commands_has_a_commands_contract_when_it_exists():
    protected = {
        module
        for contract in _config()["contracts"]
        if contract["type"] == "protected"
        for module in contract["protected_modules"]
    }
    with_commands = {
        f"{name}.commands" for name in _product_packages() if (ROOT / name / "commands.py").exists()
    }
    assert with_commands <= protected
