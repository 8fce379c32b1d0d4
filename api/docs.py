"""The API's documentation pages: Swagger UI at /api/docs/ and ReDoc at /api/redoc/, served
from this service's own static files (drf-spectacular-sidecar, pinned), so they work on a
machine that reaches no CDN. They are for people: one without a session is sent to log in
(the admin's login page) and comes back; the page says how machines authenticate (API tokens).
The schema itself (/api/schema/) takes a token or a session like every API endpoint. And an
unmatched path under /api/ is a problem+json 404 whatever DEBUG says."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from api.errors import MLFLOW_PREFIXES, api_not_found, problem


def _signed_in(request) -> bool:
    user = request.user
    return user is not None and user.is_authenticated


class _ForPeople:
    """A documentation page: logged-in people only; anyone else is sent to the login page."""

    # Not IsAuthenticated: that would answer a browser with a bare 401.
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not _signed_in(request):
            return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
        response = super().get(request, *args, **kwargs)
        response.data["username"] = request.user.get_username()
        response.data["schema_path"] = reverse("schema")
        return response


class SwaggerDocsView(_ForPeople, SpectacularSwaggerView):
    template_name = "api/swagger_ui.html"


class RedocDocsView(_ForPeople, SpectacularRedocView):
    template_name = "api/redoc.html"


def _with_slash(request) -> str | None:
    """The path with a slash appended, where that is a route (CommonMiddleware's APPEND_SLASH
    no longer sees an unmatched path, since this view matches every path)."""
    if request.path_info.endswith("/"):
        return None
    try:
        match = resolve(request.path_info + "/")
    except Resolver404:
        return None
    return None if match.func is unmatched else request.path + "/"


@csrf_exempt
def unmatched(request, *args, **kwargs):
    """Any path under /api/ that no route takes: a problem+json 404 (Django's own page would
    be HTML, and with DEBUG a page of the URL patterns); exempt from CSRF, which would
    otherwise answer a POST first with an HTML 403. A GET of a route without its final
    slash is redirected there, as before; another method is told the path."""
    if request.path.startswith(MLFLOW_PREFIXES):
        return api_not_found(request)  # MLflow's error shape, which its client reads
    slashed = _with_slash(request)
    if slashed is not None and request.method in ("GET", "HEAD"):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(slashed + ("?" + query if query else ""))
    detail = "No such resource." if slashed is None else f"No such resource; the path is {slashed}"
    return problem(404, "not_found", "Not found", detail, instance=request.path)
