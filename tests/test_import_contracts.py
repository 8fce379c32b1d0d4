"""The import contracts (pyproject.toml, checked by `lint-imports`) cover every product package:
a new app is analysed, and its commands are protected like the others'."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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
        f"{name}.commands"
        for name in _product_packages()
        if (ROOT / name / "commands.py").exists() or (ROOT / name / "commands").is_dir()
    }
    assert with_commands <= protected


def _tree_with(tmp_path: Path, edits: dict[str, str]) -> Path:
    """A copy of the product's Python files and pyproject.toml, with `edits` appended."""
    for package in _product_packages():
        for source in (ROOT / package).rglob("*.py"):
            target = tmp_path / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for name, line in edits.items():
        path = tmp_path / name
        path.write_text(path.read_text() + f"\n{line}\n")
    return tmp_path


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("registry/queries.py", "from approvals import queries as _up", "Layers: api"),
        (
            "governance/queries.py",
            "from registry import commands as _theirs",
            "registry.commands is imported only",
        ),
        ("config/settings.py", "import core.clock as _app", "config imports no app"),
        ("registry/state.py", "import django.db as _django", "import nothing from Django"),
    ],
    ids=["layer", "commands", "config", "pure"],
)
def test_the_contracts_fail_when_a_module_breaks_one(tmp_path, module, line, contract):
    result = _lint_imports(_tree_with(tmp_path, {module: line}))
    assert result.returncode != 0
    assert "1 broken." in result.stdout, result.stdout
    (_, broken) = result.stdout.split("Broken contracts")
    assert contract in " ".join(broken.split()), result.stdout
