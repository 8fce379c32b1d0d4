"""MLflow's model-version operations over the registry's commands and read tables.

A version keeps the client's source URI and run id (the run becomes lineage as for /api/v1/
creates). A source that is a verified artifact in the service's own store is copied and
checksummed (api.mlflow.sources); any other is stored as named and never read, and the version
says `ledger.artifact_verified=false` until its artifact is uploaded to and checksummed by the
service (/api/v1/.../artifact/), which production requires."""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Subquery
from rest_framework.request import Request
from rest_framework.response import Response

from api.mlflow import lifecycle, search, shapes, sources
from api.mlflow.base import MlflowApi, MlflowError, Params, actor, tag_key, version_row
from api.mlflow.errors import invalid
from registry import commands
from registry.commands import VersionInput
from registry.models import ModelVersion, RegisteredModel

VERSION_FIELDS = {
    "name": search.Field("model_name"),
    "run_id": search.Field("run_id"),
    "source_path": search.Field("artifact_uri"),
    "version_number": search.Field("number", numeric=True),
    "tags": search.Field("tags"),
}
VERSION_ORDER = {
    "name": "model_name",
    "version_number": "number",
    "timestamp": "created_at",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}
MAX_VERSIONS = 10_000  # the client's own default for search_model_versions
MAX_SOURCE = 2000


def _version(name: str, number: int) -> dict:
    _, row = version_row(name, number)
    (body,) = shapes.versions_json([row])
    return {"model_version": body}


class ModelVersionCreateApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        name = params.text("name", required=True, limit=200)
        source = params.text("source", required=True, limit=MAX_SOURCE)
        data = VersionInput(
            artifact_uri=source,
            run_id=params.text("run_id", limit=200),
            description=params.text("description"),
            tags=params.tags(),
        )
        who = actor(request)
        stored = sources.stored_source(source)
        with transaction.atomic():  # a copied artifact and its version, or neither
            version = commands.create_model_version(actor=who, model_name=name, data=data)
            if stored is not None:
                sources.copy_artifact(who, source=stored, version_id=version.id)
                version = commands.load_version(version.id)
        registered = RegisteredModel.objects.values_list("name", flat=True).get(id=version.model_id)
        # A new version has no alias yet: its state renders as the read row would.
        return Response({"model_version": shapes.version_json(version, registered, [])})


class ModelVersionGetApi(MlflowApi):
    def get(self, request: Request) -> Response:
        params = Params(request)
        return Response(_version(params.text("name", required=True, limit=200), params.version()))


class ModelVersionUpdateApi(MlflowApi):
    def patch(self, request: Request) -> Response:
        params = Params(request)
        model, row = version_row(params.text("name", required=True, limit=200), params.version())
        if params.raw("description") is not None:
            commands.update_model_version(
                actor=actor(request),
                version_id=str(row.id),
                expected_version=None,
                changes={"description": params.text("description")},
            )
        return Response(_version(model.name, row.number))


class ModelVersionTransitionApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        model, row = version_row(params.text("name", required=True, limit=200), params.version())
        stage = shapes.stage_name(params.text("stage", required=True, limit=20))
        if not stage:
            raise invalid(f"stage must be one of {', '.join(shapes.STAGES)}")
        lifecycle.to_stage(
            actor(request), row, stage, archive_existing=params.flag("archive_existing_versions")
        )
        return Response(_version(model.name, row.number))


class ModelVersionDeleteApi(MlflowApi):
    def delete(self, request: Request) -> Response:
        params = Params(request)
        _, row = version_row(params.text("name", required=True, limit=200), params.version())
        lifecycle.archive(actor(request), row, retire=True)
        return Response({})


class ModelVersionDownloadUriApi(MlflowApi):
    def get(self, request: Request) -> Response:
        params = Params(request)
        _, row = version_row(params.text("name", required=True, limit=200), params.version())
        return Response({"artifact_uri": row.artifact_uri})


class ModelVersionSearchApi(MlflowApi):
    def get(self, request: Request) -> Response:
        params = Params(request)
        text = params.text("filter", limit=search.MAX_FILTER)
        order = search.parse_order(
            params.texts("order_by"), VERSION_ORDER, ["model_name", "-number", "id"]
        )
        size = search.max_results(
            params.raw("max_results"), default=MAX_VERSIONS, limit=MAX_VERSIONS
        )
        names = RegisteredModel.objects.filter(id=OuterRef("model_id")).values("name")[:1]
        rows = (
            ModelVersion.objects.filter(
                model_id__in=RegisteredModel.objects.filter(archived=False).values("id")
            )
            .annotate(model_name=Subquery(names))
            .filter(search.parse_filter(text, VERSION_FIELDS))
        )
        found = search.page(
            rows.order_by(*order),
            kind="versions",
            text=text,
            order=order,
            token=params.raw("page_token"),
            size=size,
            render=shapes.versions_json,
        )
        body = {"model_versions": found["items"]}
        if "next_page_token" in found:
            body["next_page_token"] = found["next_page_token"]
        return Response(body)


class ModelVersionSetTagApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        _, row = version_row(params.text("name", required=True, limit=200), params.version())
        key = tag_key(params.text("key", required=True, limit=250))
        commands.update_model_version(
            actor=actor(request),
            version_id=str(row.id),
            expected_version=row.stream_version,
            changes={"tags": {**row.tags, key: params.text("value")}},
        )
        return Response({})


class ModelVersionDeleteTagApi(MlflowApi):
    def delete(self, request: Request) -> Response:
        params = Params(request)
        model, row = version_row(params.text("name", required=True, limit=200), params.version())
        key = params.text("key", required=True, limit=250)
        if key not in row.tags:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST",
                f"Version {row.number} of model {model.name!r} has no tag {key!r}",
            )
        commands.update_model_version(
            actor=actor(request),
            version_id=str(row.id),
            expected_version=row.stream_version,
            changes={"tags": {k: v for k, v in row.tags.items() if k != key}},
        )
        return Response({})
