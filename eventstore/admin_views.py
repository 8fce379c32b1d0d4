"""The one confirm-and-post admin page that runs a command, for every app's admin.

GET renders a small form and, in a hidden field, a signed token of what the page showed: the
version of every stream it shows, read before the page's content so the content is never
older than the token. POST runs the command as the signed-in user with those versions as its
expected versions (`expected_version` for the object's own stream, `expected_versions` for
all of them), so the command itself refuses a decision taken on a page that went stale. Such
a refusal records nothing and shows the page again as it is now, with the events appended
since it was opened and a fresh token; any other refusal shows the command's message and code,
as the API gives them.

The token is `django.core.signing.dumps({"path", "user", "opened", "seen": {stream id:
version}}, salt=SALT, compress=True)`: bound to the page's URL and the person, so it cannot be
edited or carried to another page. It lives in eventstore, beside the log it reads, because
every app's admin may import eventstore while core imports nothing above itself."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse

from core import clock
from core.actors import Actor
from core.display import actor_names
from core.errors import DomainError
from eventstore import store
from eventstore.types import ConcurrencyConflict

SALT = "eventstore.admin_views.seen"
SEEN_FIELD = "seen"
TEMPLATE = "admin/confirm_and_post.html"
UNKNOWN_SEEN = (
    "Nothing was recorded: this form's record of what you were shown is missing or was "
    "altered (bad_seen_token). The page below shows the current state; submit again if your "
    "decision stands."
)
# Data fields worth naming beside an event's type when listing what changed.
DETAIL_FIELDS = ("kind", "board", "decision", "outcome")


@dataclass(frozen=True)
class Change:
    """One event appended to a shown stream after the page was opened."""

    stream: str
    version: int
    what: str
    detail: str
    at: datetime
    by: str


class _BadToken(Exception):
    pass


def confirm_and_post(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    obj: Any,
    *,
    form: Callable[[QueryDict | None], forms.Form],
    streams: Mapping[uuid.UUID, str],
    run: Callable[..., object],
    summary: Callable[[Any], str],
    title: str,
    submit: str,
    done: str | Callable[[dict[str, Any]], str],
    submit_name: str = "_submit",
    stream_id: uuid.UUID | None = None,
    back: str | None = None,
) -> HttpResponse:
    """The page for one command on `obj` (a projection row whose id is its stream's id).

    `form(data)` builds the form (unbound for None); `streams` names every stream the page
    shows (stream id -> what the page calls it), the object's own among them; `summary(obj)`
    is the safe HTML the page shows above the form, built from fresh reads; `run(actor, data,
    expected_version=..., expected_versions=...)` calls the command; `done` (or done(data))
    is the message on success. `stream_id` is the object's own stream where it is not its
    primary key (a model's risk record); `back` the page to return to, the object's change
    page unless given (a workspace). Permission checks stay with the caller, before this."""
    own = obj.pk if stream_id is None else stream_id
    if own not in streams:
        raise ValueError("the page's streams must include the object's own")
    page = _Page(
        model_admin, request, obj, form, streams, summary, title, submit, submit_name, back
    )
    if request.method != "POST":
        return page.render(form(None))
    bound = form(request.POST)
    try:
        opened, seen = _read_token(request, streams)
    except _BadToken:
        return page.render(bound, problem=UNKNOWN_SEEN, status=400)
    changes = changes_since(seen, streams)
    if changes:
        return page.render(bound, opened=opened, changes=changes, status=409)
    if bound.is_valid():
        try:
            run(
                Actor.from_request(request),
                bound.cleaned_data,
                expected_version=seen[own],
                expected_versions=seen,
            )
        except ConcurrencyConflict as conflict:
            # A stream moved between the check above and the command's own.
            changes = changes_since(seen, streams)
            if changes:
                return page.render(bound, opened=opened, changes=changes, status=409)
            bound.add_error(None, f"{conflict.detail} ({conflict.code})")
        except DomainError as error:
            bound.add_error(None, f"{error.detail} ({error.code})")
        else:
            messages.success(request, done(bound.cleaned_data) if callable(done) else done)
            return HttpResponseRedirect(page.back_url)
    return page.render(bound)


def changes_since(seen: Mapping[uuid.UUID, int], streams: Mapping[uuid.UUID, str]) -> list[Change]:
    """The events appended to the shown streams after the versions seen, oldest first."""
    current = store.stream_versions(seen)
    appended = [
        (stream_id, event)
        for stream_id, version in seen.items()
        if current[stream_id] != version
        for event in store.read_stream(stream_id, after_version=version, upcast=False)
    ]
    names = actor_names(event.metadata.get("actor", "") for _, event in appended)
    changes = [
        Change(
            stream=streams[stream_id],
            version=event.version,
            what=event_in_words(event.type),
            detail=", ".join(str(event.data[f]) for f in DETAIL_FIELDS if event.data.get(f)),
            at=event.recorded_at,
            by=names.get(event.metadata.get("actor", ""), ""),
        )
        for stream_id, event in appended
    ]
    return sorted(changes, key=lambda c: (c.at, c.stream, c.version))


def event_in_words(event_type: str) -> str:
    """'governance.EvidenceAttached' -> 'Evidence attached'."""
    name = event_type.rpartition(".")[2]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower().capitalize()


def _read_token(
    request: HttpRequest, streams: Mapping[uuid.UUID, str]
) -> tuple[datetime, dict[uuid.UUID, int]]:
    """When the page was opened and the versions it showed, from the posted token; _BadToken
    when it is missing, altered, or not this page's, this person's and these streams'."""
    try:
        payload = signing.loads(request.POST.get(SEEN_FIELD, ""), salt=SALT)
        seen = {uuid.UUID(k): v for k, v in payload["seen"].items()}
        opened = datetime.fromisoformat(payload["opened"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise _BadToken from None
    if (
        payload.get("path") != request.path
        or payload.get("user") != request.user.pk
        or set(seen) != set(streams)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in seen.values())
    ):
        raise _BadToken
    return opened, seen


def _token(request: HttpRequest, versions: Mapping[uuid.UUID, int]) -> str:
    return signing.dumps(
        {
            "path": request.path,
            "user": request.user.pk,
            "opened": clock.now().isoformat(),
            "seen": {str(stream_id): version for stream_id, version in versions.items()},
        },
        salt=SALT,
        compress=True,
    )


@dataclass
class _Page:
    """One rendering of a confirm-and-post page: the versions first, then the content."""

    model_admin: admin.ModelAdmin
    request: HttpRequest
    obj: Any
    form: Callable[[QueryDict | None], forms.Form]
    streams: Mapping[uuid.UUID, str]
    summary: Callable[[Any], str]
    title: str
    submit: str
    submit_name: str
    back: str | None

    @property
    def back_url(self) -> str:
        if self.back is not None:
            return self.back
        opts = self.model_admin.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.obj.pk])

    def render(
        self,
        form: forms.Form,
        *,
        problem: str = "",
        opened: datetime | None = None,
        changes: list[Change] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        # The versions are read before anything the page shows, so the token never claims a
        # newer state than the person saw (at worst a submit is refused needlessly).
        versions = store.stream_versions(self.streams)
        self.obj.refresh_from_db()
        context = {
            **self.model_admin.admin_site.each_context(self.request),
            "title": self.title,
            # A workspace's form (one that returns to its workspace) keeps the workspace's frame.
            **({"is_nav_sidebar_enabled": False} if self.back is not None else {}),
            "opts": self.model_admin.model._meta,
            "object": self.obj,
            "object_url": self.back_url,
            "summary": self.summary(self.obj),
            "form": form,
            "submit": self.submit,
            "submit_name": self.submit_name,
            "seen_field": SEEN_FIELD,
            "seen_token": _token(self.request, versions),
            "shown": [(label, versions[stream_id]) for stream_id, label in self.streams.items()],
            "problem": problem,
            "opened": opened,
            "changes": changes or [],
        }
        return TemplateResponse(self.request, TEMPLATE, context, status=status)
