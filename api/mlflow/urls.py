"""MLflow's model-registry REST paths (mounted under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/),
as MLflow's client calls them; see api.mlflow."""

from django.urls import path

from api.mlflow import models as m
from api.mlflow import versions as v

urlpatterns = [
    path("registered-models/create", m.RegisteredModelCreateApi.as_view()),
    path("registered-models/get", m.RegisteredModelGetApi.as_view()),
    path("registered-models/rename", m.RegisteredModelRenameApi.as_view()),
    path("registered-models/update", m.RegisteredModelUpdateApi.as_view()),
    path("registered-models/delete", m.RegisteredModelDeleteApi.as_view()),
    path("registered-models/search", m.RegisteredModelSearchApi.as_view()),
    path("registered-models/get-latest-versions", m.LatestVersionsApi.as_view()),
    path("registered-models/set-tag", m.RegisteredModelSetTagApi.as_view()),
    path("registered-models/delete-tag", m.RegisteredModelDeleteTagApi.as_view()),
    path("registered-models/alias", m.RegisteredModelAliasApi.as_view()),
    path("model-versions/create", v.ModelVersionCreateApi.as_view()),
    path("model-versions/get", v.ModelVersionGetApi.as_view()),
    path("model-versions/update", v.ModelVersionUpdateApi.as_view()),
    path("model-versions/transition-stage", v.ModelVersionTransitionApi.as_view()),
    path("model-versions/delete", v.ModelVersionDeleteApi.as_view()),
    path("model-versions/search", v.ModelVersionSearchApi.as_view()),
    path("model-versions/get-download-uri", v.ModelVersionDownloadUriApi.as_view()),
    path("model-versions/set-tag", v.ModelVersionSetTagApi.as_view()),
    path("model-versions/delete-tag", v.ModelVersionDeleteTagApi.as_view()),
]
