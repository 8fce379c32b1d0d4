"""MLflow's JSON shapes of registered models and model versions, read from the registry's
read tables: timestamps in milliseconds, versions as strings, tags and aliases as lists, every
version READY (the ledger records a version whole or not at all), and the lifecycle shown as
MLflow's stages.

Two tags are the ledger's own, computed and never stored: `ledger.status` (the lifecycle
status behind the stage) and `ledger.artifact_verified` (whether the service holds and has
checksummed the artifact; a source it only names is `false`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, Value, When

from registry.models import ModelAlias, ModelVersion, RegisteredModel

# The lifecycle as MLflow's four stages.
STAGE_OF = {
    "draft": "None",
    "rejected": "None",
    "in_review": "Staging",
    "approved": "Staging",
    "deployed": "Production",
    "deprecated": "Archived",
    "retired": "Archived",
}
STAGES = ("None", "Staging", "Production", "Archived")
STATUSES_OF = {stage: [s for s, st in STAGE_OF.items() if st == stage] for stage in STAGES}
LEDGER_TAG_PREFIX = "ledger."


def stage_name(raw: str) -> str:
    """MLflow's stage names are case-insensitive."""
    for stage in STAGES:
        if isinstance(raw, str) and raw.lower() == stage.lower():
            return stage
    return ""


def millis(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment is not None else 0


def _tags(tags: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in sorted(tags.items())]


def stage_of_rows() -> Case:
    """The stage as an SQL expression, to pick the latest version per stage in one query."""
    return Case(
        *[When(status=status, then=Value(stage)) for status, stage in STAGE_OF.items()],
        output_field=CharField(),
    )


def _aliases_by_model(model_ids: Iterable[Any]) -> dict[Any, list[tuple[str, int]]]:
    found: dict[Any, list[tuple[str, int]]] = defaultdict(list)
    for row in ModelAlias.objects.filter(model_id__in=list(model_ids)).order_by("alias"):
        found[row.model_id].append((row.alias, row.version))
    return found


def version_json(row: Any, model_name: str, aliases: list[tuple[str, int]]) -> dict:
    """A version (its read row, or its state: the same attributes) in MLflow's shape."""
    tags = {
        **row.tags,
        "ledger.status": row.status,
        "ledger.artifact_verified": "true" if row.artifact_verified else "false",
    }
    body: dict[str, Any] = {
        "name": model_name,
        "version": str(row.number),
        "creation_timestamp": millis(row.created_at),
        "last_updated_timestamp": millis(row.updated_at),
        "user_id": row.created_by,
        "current_stage": STAGE_OF.get(row.status, "None"),
        "description": row.description,
        "source": row.artifact_uri,
        "run_id": row.run_id,
        "status": "READY",
        "status_message": (
            "" if row.artifact_verified else "artifact not verified: the ledger holds no checksum"
        ),
        "tags": _tags(tags),
        "aliases": [alias for alias, number in aliases if number == row.number],
    }
    return body


def versions_json(rows: list[ModelVersion]) -> list[dict]:
    names = dict(
        RegisteredModel.objects.filter(id__in={r.model_id for r in rows}).values_list("id", "name")
    )
    aliases = _aliases_by_model(names)
    return [version_json(r, names.get(r.model_id, ""), aliases.get(r.model_id, [])) for r in rows]


def latest_per_stage(
    model_ids: Iterable[Any], stages: Iterable[str] = STAGES
) -> list[ModelVersion]:
    """For each model, its highest-numbered version in each of `stages` (one query)."""
    return list(
        ModelVersion.objects.filter(model_id__in=list(model_ids))
        .annotate(stage=stage_of_rows())
        .filter(stage__in=list(stages))
        .order_by("model_id", "stage", "-number")
        .distinct("model_id", "stage")
    )


def models_json(rows: list[RegisteredModel]) -> list[dict]:
    ids = [r.id for r in rows]
    aliases = _aliases_by_model(ids)
    latest: dict[Any, list[ModelVersion]] = defaultdict(list)
    for version in latest_per_stage(ids):
        latest[version.model_id].append(version)
    out = []
    for row in rows:
        versions = sorted(latest[row.id], key=lambda v: v.number)
        out.append(
            {
                "name": row.name,
                "creation_timestamp": millis(row.created_at),
                "last_updated_timestamp": millis(row.updated_at),
                "user_id": row.created_by,
                "description": row.description,
                "latest_versions": [
                    version_json(v, row.name, aliases.get(row.id, [])) for v in versions
                ],
                "tags": _tags(row.tags),
                "aliases": [
                    {"alias": alias, "version": str(number)}
                    for alias, number in aliases.get(row.id, [])
                ],
            }
        )
    return out
