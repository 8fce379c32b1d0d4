"""MLflow's registered-model operations over the registry's commands and read tables.

A model created here belongs to the token user's default team (as OpenLineage's datasets do);
deleting one archives it, and its name stays reserved."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from api.mlflow import search, shapes
from api.mlflow.base import MlflowApi, MlflowError, Params, actor, model_row, tag_key
from api.mlflow.errors import invalid
from registry import commands, queries
from registry.errors import AliasNotFound, ModelVersionNotFound
from registry.models import ModelAlias, ModelVersion, RegisteredModel

MODEL_FIELDS = {"name": search.Field("name"), "tags": search.Field("tags")}
MODEL_ORDER = {
    "name": "name",
    "timestamp": "created_at",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}
MAX_MODELS = 1000
DEFAULT_MODELS = 100


def _model(name: str) -> dict:
    (body,) = shapes.models_json([model_row(name)])
    return {"registered_model": body}


class RegisteredModelCreateApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        name = params.text("name", required=True, limit=200)
        who = actor(request)
        team = queries.default_team(who.account)
        if team is None:
            raise invalid(
                "models created through the MLflow API belong to your default team, and you"
                ' have none: choose one with PUT /api/v1/users/me/default-team/ {"team": ...}'
            )
        existing = RegisteredModel.objects.filter(name__iexact=name).first()
        if existing is not None and existing.archived:
            raise MlflowError(
                "RESOURCE_ALREADY_EXISTS",
                f"Registered model {existing.name!r} was deleted (archived): the ledger keeps its"
                " history, so its name stays reserved; choose another name",
            )
        if existing is not None:
            raise MlflowError(
                "RESOURCE_ALREADY_EXISTS",
                f"Registered model (name={existing.name}) already exists.",
            )
        commands.register_model(
            actor=who,
            name=name,
            team=team.name,
            description=params.text("description"),
            tags=params.tags(),
        )
        return Response(_model(name))


class RegisteredModelGetApi(MlflowApi):
    def get(self, request: Request) -> Response:
        return Response(_model(Params(request).text("name", required=True, limit=200)))


class RegisteredModelRenameApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        new_name = params.text("new_name", required=True, limit=200)
        commands.change_model(
            actor=actor(request),
            model_id=str(row.id),
            expected_version=None,
            changes={},
            name=new_name,
        )
        return Response(_model(new_name))


class RegisteredModelUpdateApi(MlflowApi):
    def patch(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        if params.raw("description") is not None:
            commands.change_model(
                actor=actor(request),
                model_id=str(row.id),
                expected_version=None,
                changes={"description": params.text("description")},
            )
        return Response(_model(row.name))


class RegisteredModelDeleteApi(MlflowApi):
    def delete(self, request: Request) -> Response:
        row = model_row(Params(request).text("name", required=True, limit=200))
        commands.change_model(
            actor=actor(request),
            model_id=str(row.id),
            expected_version=None,
            changes={},
            archive=True,
            reason="deleted through the MLflow API",
        )
        return Response({})


class RegisteredModelSearchApi(MlflowApi):
    def get(self, request: Request) -> Response:
        params = Params(request)
        text = params.text("filter", limit=search.MAX_FILTER)
        order = search.parse_order(params.texts("order_by"), MODEL_ORDER, ["name", "id"])
        size = search.max_results(
            params.raw("max_results"), default=DEFAULT_MODELS, limit=MAX_MODELS
        )
        rows = RegisteredModel.objects.filter(archived=False).filter(
            search.parse_filter(text, MODEL_FIELDS)
        )
        found = search.page(
            rows.order_by(*order),
            kind="models",
            text=text,
            order=order,
            token=params.raw("page_token"),
            size=size,
            render=shapes.models_json,
        )
        body = {"registered_models": found["items"]}
        if "next_page_token" in found:
            body["next_page_token"] = found["next_page_token"]
        return Response(body)


class LatestVersionsApi(MlflowApi):
    def get(self, request: Request) -> Response:
        return self._latest(request)

    def post(self, request: Request) -> Response:
        return self._latest(request)

    def _latest(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        stages = []
        for raw in params.texts("stages"):
            stage = shapes.stage_name(raw)
            if not stage:
                raise invalid(f"{raw!r} is not a stage: {', '.join(shapes.STAGES)}")
            stages.append(stage)
        latest = shapes.latest_per_stage([row.id], stages or shapes.STAGES)
        rows = sorted(latest, key=lambda v: v.number)
        return Response({"model_versions": shapes.versions_json(rows)})


class RegisteredModelSetTagApi(MlflowApi):
    def post(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        key = tag_key(params.text("key", required=True, limit=250))
        tags = {**row.tags, key: params.text("value")}
        commands.change_model(
            actor=actor(request),
            model_id=str(row.id),
            expected_version=row.stream_version,
            changes={"tags": tags},
        )
        return Response({})


class RegisteredModelDeleteTagApi(MlflowApi):
    def delete(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        key = params.text("key", required=True, limit=250)
        if key not in row.tags:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST", f"Registered model {row.name!r} has no tag {key!r}"
            )
        commands.change_model(
            actor=actor(request),
            model_id=str(row.id),
            expected_version=row.stream_version,
            changes={"tags": {k: v for k, v in row.tags.items() if k != key}},
        )
        return Response({})


class RegisteredModelAliasApi(MlflowApi):
    """Set (POST), delete (DELETE) and read (GET: the version it points at) an alias. The
    `production` alias moves only through the promotion gate, as on /api/v1/."""

    def post(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        commands.assign_alias(
            actor=actor(request),
            model_id=str(row.id),
            alias=params.text("alias", required=True, limit=100),
            version=params.version(),
        )
        return Response({})

    def delete(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        commands.remove_alias(
            actor=actor(request),
            model_id=str(row.id),
            alias=params.text("alias", required=True, limit=100),
        )
        return Response({})

    def get(self, request: Request) -> Response:
        params = Params(request)
        row = model_row(params.text("name", required=True, limit=200))
        alias = params.text("alias", required=True, limit=100)
        found = ModelAlias.objects.filter(model_id=row.id, alias=alias).first()
        if found is None:
            raise AliasNotFound(f"model {row.name!r} has no alias {alias!r}")
        version = ModelVersion.objects.filter(model_id=row.id, number=found.version).first()
        if version is None:
            raise ModelVersionNotFound(f"model {row.name!r} has no version {found.version}")
        (body,) = shapes.versions_json([version])
        return Response({"model_version": body})
