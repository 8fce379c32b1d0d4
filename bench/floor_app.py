"""The floor for bench/api.py: the least a Django view under gunicorn can do for a create
request, so the table shows what the stack itself costs beside what our features cost.

One view, no middleware, no authentication: parse the JSON body, then in one transaction
lock the model's number (an advisory lock, as gapless numbering needs) and insert a row
numbered max + 1; answer 201 with the number. Same database settings as the service
(persistent connections, server-side binding, generic plans). Not part of the product."""

from __future__ import annotations

import json
import os

import dj_database_url
from django.conf import settings

_database = dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)
_database["OPTIONS"] = {
    "server_side_binding": True,
    "prepare_threshold": 1,
    "options": "-c plan_cache_mode=force_generic_plan",
}
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={"default": _database},
)

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

TABLE = "bench_floor_version"  # created by bench/api.py in its throwaway database


def create(request: HttpRequest, name: str) -> HttpResponse:
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        cursor.execute(
            f"INSERT INTO {TABLE} (model, number, body) SELECT %s, coalesce(max(number), 0) + 1,"
            f" %s FROM {TABLE} WHERE model = %s RETURNING number",
            [name, json.dumps(body), name],
        )
        (number,) = cursor.fetchone()
    answer = json.dumps({"model": name, "number": number})
    return HttpResponse(answer, status=201, content_type="application/json")


def ready(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("floor/<str:name>/versions/", create), path("healthz", ready)]
application = get_wsgi_application()
