"""Registry routes (README, The REST API). Dataset names may contain '/', hence <path:name>."""

from django.urls import path

from api.registry import views

urlpatterns = [
    path("models/", views.ModelCollectionApi.as_view(), name="models"),
    path("models/<str:name>/", views.ModelApi.as_view(), name="model"),
    path("models/<str:name>/history/", views.ModelHistoryApi.as_view(), name="model-history"),
    path(
        "models/<str:name>/versions/",
        views.ModelVersionCollectionApi.as_view(),
        name="model-versions",
    ),
    path(
        "models/<str:name>/versions/<int:number>/",
        views.ModelVersionApi.as_view(),
        name="model-version",
    ),
    path(
        "models/<str:name>/versions/<int:number>/history/",
        views.ModelVersionHistoryApi.as_view(),
        name="model-version-history",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifact/",
        views.ArtifactApi.as_view(),
        name="model-version-artifact",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifact/upload-url/",
        views.ArtifactUploadUrlApi.as_view(),
        name="model-version-artifact-upload-url",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifact/verify/",
        views.ArtifactVerifyApi.as_view(),
        name="model-version-artifact-verify",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifact/content/<str:filename>",
        views.ArtifactContentApi.as_view(),
        name="model-version-artifact-content",
    ),
    path("models/<str:name>/aliases/", views.AliasCollectionApi.as_view(), name="model-aliases"),
    path("models/<str:name>/aliases/<str:alias>/", views.AliasApi.as_view(), name="model-alias"),
    path("datasets/", views.DatasetCollectionApi.as_view(), name="datasets"),
    # History routes come first, so "<name>/history/" reaches them and not a dataset named so.
    path(
        "datasets/<path:name>/versions/<int:number>/history/",
        views.DatasetVersionHistoryApi.as_view(),
        name="dataset-version-history",
    ),
    path(
        "datasets/<path:name>/history/", views.DatasetHistoryApi.as_view(), name="dataset-history"
    ),
    path(
        "datasets/<path:name>/versions/<int:number>/",
        views.DatasetVersionApi.as_view(),
        name="dataset-version",
    ),
    path(
        "datasets/<path:name>/versions/",
        views.DatasetVersionCollectionApi.as_view(),
        name="dataset-versions",
    ),
    path("datasets/<path:name>/", views.DatasetApi.as_view(), name="dataset"),
]
