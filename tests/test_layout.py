"""The tree keeps the shape README describes: every app's rooms are where the rooms table says,
and no module of the product runs past about 500 lines."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "eventstore", "registry", "boards", "governance", "approvals", "lineage")
PRODUCT = (*APPS, "api", "config")
ROOMS = {  # the column of the table: the module or package that holds the room
    "events": "events",
    "state": "state",
    "commands": "commands",
    "policies": "policies",
    "projectors": "projectors",
    "models": "models",
    "queries": "queries",
    "loaders": "streams",
    "rules": "rules",
    "permissions": "permissions",
    "admin": "admin",
    "tasks": "tasks",
    "errors": "errors",
}
LONGEST = 520  # "about 500"


def _has(app: str, module: str) -> bool:
    return (ROOT / app / f"{module}.py").is_file() or (
        ROOT / app / module / "__init__.py"
    ).is_file()


def _readme_rooms() -> tuple[list[str], dict[str, list[bool]]]:
    text = (ROOT / "README.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("| app |")]
    assert len(lines) == 1, "README has one rooms table, headed '| app | ...'"
    header = [cell.strip() for cell in lines[0].strip("|").split("|")][1:]
    rows: dict[str, list[bool]] = {}
    for line in text.splitlines():
        match = re.match(r"^\| `(\w+)/` \|(.*)\|$", line)
        if match and match[1] in APPS and line.count("|") == len(header) + 2:
            rows[match[1]] = [cell.strip() == "yes" for cell in match[2].split("|")]
    return header, rows


def test_the_readme_rooms_table_matches_the_tree():
    header, rows = _readme_rooms()
    assert header == list(ROOMS)
    assert set(rows) == set(APPS)
    for app, cells in rows.items():
        actual = [_has(app, ROOMS[room]) for room in header]
        differ = [
            room for room, said, has in zip(header, cells, actual, strict=True) if said != has
        ]
        assert not differ, f"README's rooms table is wrong for {app}: {differ}"


def test_no_module_of_the_product_runs_past_about_500_lines():
    long = {}
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            count = len(path.read_text().splitlines())
            if count > LONGEST:
                long[str(path.relative_to(ROOT))] = count
    assert long == {}


def test_no_test_module_imports_from_a_sibling_test_module():
    # Shared helpers live in conftest.py or a helpers module, not in another test module.
    sibling = re.compile(r"^\s*from tests\.[\w.]*\btest_\w+ import|^\s*import tests\.[\w.]*\btest_")
    found = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if sibling.match(line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []
