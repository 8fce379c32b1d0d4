"""The OpenLineage endpoint's mapping: a RunEvent, as the openlineage-python HTTP transport
posts it, becomes the ledger's commands in one transaction. Datasets first seen are
registered (and their versions created) through the registry's commands, the run's event is
recorded and its edges drawn through lineage's. An adapter: it calls commands of two apps and
writes nothing itself."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.canonical import CanonicalizationError, canonical_json, check_json_value
from lineage import commands, rules
from lineage import events as ev
from lineage.errors import InvalidRunEvent, NoTeam
from registry import commands as registry
from registry import queries as registry_queries
from registry import rules as registry_rules
from registry.errors import DatasetNotFound
from registry.models import DatasetVersion
from registry.queries import dataset_id_for
from registry.streams import load_dataset

RUN_EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER")
# Datasets a RunEvent may name on each side: what one request may make the ledger register,
# version and link (bench/openlineage.py measures the largest allowed event).
MAX_DATASETS = 100
OPENLINEAGE_VERSION_TAG = "openlineage.version"


@dataclass(frozen=True)
class IngestResult:
    run: str
    event_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    edges: int


def _storable(value: str, what: str) -> str:
    """PostgreSQL text holds no NUL and UTF-8 holds no lone surrogate: refuse both up front."""
    if "\x00" in value:
        raise InvalidRunEvent(f"{what} cannot contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise InvalidRunEvent(f"{what} is not valid Unicode text") from None
    return value


def _text(value: Any, what: str, limit: int = 500, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidRunEvent(f"{what} must be a non-empty string of at most {limit} characters")
    return _storable(value, what)


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRunEvent(f"{what} must be an object")
    return value


@dataclass(frozen=True)
class _Dataset:
    """An OpenLineage dataset. Facets are read leniently: one of an unexpected shape is
    ignored, as OpenLineage consumers do with facets they do not understand."""

    name: str
    facets: dict[str, Any]

    def _facet(self, name: str) -> dict[str, Any]:
        facet = self.facets.get(name)
        return facet if isinstance(facet, dict) else {}

    @property
    def version(self) -> str:
        version = self._facet("version").get("datasetVersion")
        if isinstance(version, bool) or not isinstance(version, str | int | float):
            return ""
        return _text(str(version), "datasetVersion", 200) if str(version) else ""

    @property
    def schema(self) -> dict[str, Any]:
        fields = self._facet("schema").get("fields")
        out = []
        for field in fields if isinstance(fields, list) else []:
            if isinstance(field, dict) and isinstance(field.get("name"), str) and field["name"]:
                kind = field.get("type")
                out.append(
                    {
                        "name": _text(field["name"], "schema field name"),
                        "type": _text(kind, "schema field type")
                        if isinstance(kind, str) and kind
                        else "",
                    }
                )
        return {"fields": out[:1000]} if out else {}

    @property
    def uri(self) -> str:
        uri = self._facet("dataSource").get("uri")
        if isinstance(uri, str) and uri:
            return _text(uri, "dataSource uri", 2000)
        return self.name


def _datasets(value: Any, what: str) -> list[_Dataset]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_DATASETS:
        raise InvalidRunEvent(f"{what} must be a list of at most {MAX_DATASETS} datasets")
    found = []
    for item in value:
        item = _object(item, f"{what} dataset")
        namespace = _text(item.get("namespace"), f"{what} dataset namespace", 249)
        name = _text(item.get("name"), f"{what} dataset name", 250)
        full = f"{namespace}/{name}"
        try:
            registry_rules.check_dataset_name(full)
        except InvalidInput as exc:
            raise InvalidRunEvent(f"{what} dataset {full[:80]!r}: {exc.detail}") from exc
        found.append(_Dataset(full, _object(item.get("facets"), f"{what} dataset facets")))
    return found


def _team_for(actor: Actor) -> str:
    """The sender's default team, never a guess among its groups (nor a role group)."""
    group = registry_queries.default_team(actor.account)
    if group is None:
        raise NoTeam(
            "datasets first seen in OpenLineage are registered for the sender's default team,"
            " and the sender has none: choose one with PUT /api/v1/users/me/default-team/"
        )
    return group.name


def _dataset_node(actor: Actor, dataset: _Dataset, *, new_version: bool) -> str:
    """The node for an OpenLineage dataset: registered on first sight; a version facet maps to
    the dataset version tagged with it (created once); outputs of a completed run without one
    become a new version; anything else is the dataset as a whole."""
    try:
        dataset_id = str(dataset_id_for(dataset.name))
    except DatasetNotFound:
        dataset_id = registry.register_dataset(
            actor=actor, name=dataset.name, team=_team_for(actor)
        ).id
    state = load_dataset(dataset_id)
    version = dataset.version
    if version:
        existing = DatasetVersion.objects.filter(
            dataset_id=dataset_id, tags__contains={OPENLINEAGE_VERSION_TAG: version}
        ).first()
        if existing is not None:
            return f"dataset:{state.name}@{existing.number}"
    elif not new_version:
        return f"dataset:{state.name}"
    created = registry.create_dataset_version(
        actor=actor,
        dataset_id=dataset_id,
        data=registry.DatasetVersionInput(
            uri=dataset.uri,
            schema=dataset.schema,
            tags={OPENLINEAGE_VERSION_TAG: version} if version else None,
        ),
    )
    return f"dataset:{state.name}@{created.number}"


class _Repeated(Exception):
    """Unwinds a repeated request's transaction (datasets it made again) to answer as before."""

    def __init__(self, stream_id: uuid.UUID, position: int) -> None:
        self.stream_id, self.position = stream_id, position


def ingest_run_event(
    *, actor: Actor, event: Any, idempotency_key: str | None = None
) -> IngestResult:
    """Map one OpenLineage RunEvent into the ledger: the run's stream records the event; inputs
    feed the run (consumed) and, once it completes, the run feeds its outputs (produced).
    With an idempotency key, the same request repeated changes nothing and answers the same."""
    try:
        return _ingest(actor, event, idempotency_key)
    except _Repeated as repeat:
        (first,) = [e for e in store.read_stream(repeat.stream_id) if e.position == repeat.position]
        received = ev.RunEventReceived.from_data(first.data)
        return IngestResult(
            f"run:{received.run_id}",
            received.run_state,
            tuple(received.inputs),
            tuple(received.outputs),
            0,
        )


def _ingest(actor: Actor, event: Any, idempotency_key: str | None) -> IngestResult:
    body = _object(event, "the RunEvent")
    event_type = body.get("eventType") or "OTHER"
    if event_type not in RUN_EVENT_TYPES:
        raise InvalidRunEvent(f"eventType must be one of {', '.join(RUN_EVENT_TYPES)}")
    event_time = _text(body.get("eventTime"), "eventTime", 64)
    run = _object(body.get("run"), "run")
    run_id = _text(run.get("runId"), "run.runId", 200)
    if not rules.RUN_ID.match(run_id):
        raise InvalidRunEvent("run.runId must be printable ASCII without spaces")
    job = _object(body.get("job"), "job")
    job_namespace = _text(job.get("namespace"), "job.namespace")
    job_name = _text(job.get("name"), "job.name")
    producer = _text(body.get("producer"), "producer", 2000, required=False)
    inputs = _datasets(body.get("inputs"), "inputs")
    outputs = _datasets(body.get("outputs"), "outputs")
    completed = event_type == "COMPLETE"
    run_facets = {}
    for key, value in _object(run.get("facets"), "run facets").items():
        if key not in ("parent", "nominalTime", "errorMessage"):
            continue
        try:
            check_json_value(value)
            canonical_json(value)
        except CanonicalizationError:
            continue  # a facet the ledger cannot hash exactly is left out, not refused
        run_facets[key] = value
    run_key = f"run:{run_id}"
    with transaction.atomic():
        # The run's team first: another team's run is refused before anything is registered.
        commands.claim_run(actor, run_id)
        input_nodes = [_dataset_node(actor, d, new_version=False) for d in inputs]
        output_nodes = [_dataset_node(actor, d, new_version=completed) for d in outputs]
        appended = commands.record_run_event(
            actor=actor,
            run_id=run_id,
            run_state=event_type,
            event_time=event_time,
            job_namespace=job_namespace,
            job_name=job_name,
            producer=producer,
            inputs=input_nodes,
            outputs=output_nodes,
            facets=run_facets,
            request_fingerprint=hashlib.sha256(
                json.dumps(body, sort_keys=True, default=str).encode()
            ).digest(),
            idempotency_key=idempotency_key,
        )
        if appended.replayed:
            raise _Repeated(appended.stream_id, appended.positions[0])
        # Inputs feed the run; once it completes, the run feeds its outputs.
        edges = [(node, run_key, "consumed") for node in input_nodes]
        if completed:
            edges += [(run_key, node, "produced") for node in output_nodes]
        for source, target, edge_type in edges:
            commands.record_edge(
                actor=actor,
                source=source,
                target=target,
                edge_type=edge_type,
                origin="openlineage",
                run_id=run_id,
            )
    return IngestResult(run_key, event_type, tuple(input_nodes), tuple(output_nodes), len(edges))
