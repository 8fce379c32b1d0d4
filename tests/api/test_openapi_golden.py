"""The OpenAPI schema /api/schema/ serves is the committed docs/openapi.json, byte for byte, so
that every change to the API contract shows up as a reviewed diff of that file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from django.conf import settings

from core.management.commands.write_openapi import OPENAPI_FILE, render

REGENERATE = "./ledger manage write_openapi"
SHOWN = 12  # names listed per kind of difference; the rest are counted


def _served(client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def _names(label: str, names: list[str]) -> str:
    more = f" ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"  {label} ({len(names)}): {', '.join(names[:SHOWN])}{more}"


def _changed_operations(old: dict, new: dict) -> str:
    methods = sorted(m for m in old.keys() | new.keys() if old.get(m) != new.get(m))
    return f" ({', '.join(methods)})"


def _compare(label: str, old: dict, new: dict, detail=None) -> list[str]:
    """Added, removed and changed keys of one mapping (paths, or one kind of component);
    `detail` tells what changed inside an entry."""
    lines = []
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    if detail is not None:
        changed = [name + detail(old[name], new[name]) for name in changed]
    for what, names in (
        ("added", sorted(new.keys() - old.keys())),
        ("removed", sorted(old.keys() - new.keys())),
        ("changed", changed),
    ):
        if names:
            lines.append(_names(f"{label} {what}", names))
    return lines


def differences(committed: dict[str, Any], served: dict[str, Any]) -> list[str]:
    """A short account of how two schemas differ: which paths, which components of each kind,
    which other top-level parts; not the diff itself."""
    paths = committed.get("paths", {}), served.get("paths", {})
    lines = _compare("paths", *paths, detail=_changed_operations)
    old, new = committed.get("components", {}), served.get("components", {})
    for kind in sorted(old.keys() | new.keys()):
        lines += _compare(f"components/{kind}", old.get(kind, {}), new.get(kind, {}))
    rest = sorted(
        key
        for key in (committed.keys() | served.keys()) - {"paths", "components"}
        if committed.get(key) != served.get(key)
    )
    if rest:
        lines.append(_names("top level changed", rest))
    return lines or ["  same content; only the formatting of the file differs"]


def test_served_openapi_schema_is_the_committed_docs_openapi_json(owner_api):
    expected = render(_served(owner_api))
    relative = OPENAPI_FILE.relative_to(settings.BASE_DIR)
    if not OPENAPI_FILE.exists():
        raise AssertionError(f"{relative} is missing; write it with `{REGENERATE}`")
    committed = OPENAPI_FILE.read_text(encoding="utf-8")
    if committed == expected:
        return
    try:
        summary = differences(json.loads(committed), json.loads(expected))
    except json.JSONDecodeError as exc:
        summary = [f"  {relative} is not JSON: {exc}"]
    raise AssertionError(
        f"the schema /api/schema/ serves differs from {relative} (committed -> served):\n"
        + "\n".join(summary)
        + f"\nIf the API change is intended, run `{REGENERATE}` and commit {relative} with it"
        " (`git diff` shows the whole change)."
    )


def test_write_openapi_writes_the_bytes_the_golden_test_compares_from_another_process(
    owner_api, tmp_path
):
    """Same bytes from a separate process with another hash seed: the file is deterministic,
    and regenerating it gives exactly what the golden test expects."""
    target = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "manage.py", "write_openapi", "--file", str(target)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONHASHSEED": "1"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert target.read_bytes() == render(_served(owner_api)).encode()
