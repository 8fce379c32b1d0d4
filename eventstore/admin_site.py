"""The admin site: each person lands on their workspaces, the pages of what waits for them
as a board member, risk officer, model-risk chair, finding reviewer or auditor, above the
list of every table they may read.

Each workspace is registered by the admin module of the app that owns it (`register`); the
site asks each one whether the person has it (by the same predicates the API decides with)
and how many things wait there. It lives in eventstore, beside the confirm-and-post page,
because every app's admin may import eventstore while core imports nothing above itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core import display

WORKSPACE_TEMPLATE = "admin/ledger/workspace.html"


@dataclass(frozen=True)
class Workspace:
    """One role's page: `url_name` is the admin URL name of its page, `holds(user)` whether the
    person has the role, `waiting(user)` how many things wait for them there."""

    key: str
    title: str
    role: str
    description: str
    url_name: str
    holds: Callable[[Any], bool]
    waiting: Callable[[Any], int]
    order: int = 50
    query: str = ""


# Filled at import by the apps' admin modules (the admin's autodiscovery, once per process) and
# only read afterwards; keyed, so a module imported again replaces its entry.
_WORKSPACES: dict[str, Workspace] = {}


def register(workspace: Workspace) -> Workspace:
    _WORKSPACES[workspace.key] = workspace
    return workspace


@dataclass(frozen=True)
class Entry:
    """A workspace as the index shows it to one person."""

    title: str
    role: str
    description: str
    url: str
    waiting: int


def workspaces_of(user: Any) -> list[Entry]:
    """The person's workspaces, in the site's order, with what waits in each."""
    if user is None or not user.is_authenticated:
        return []
    return [
        Entry(
            w.title,
            w.role,
            w.description,
            reverse(f"admin:{w.url_name}") + w.query,
            w.waiting(user),
        )
        for w in sorted(_WORKSPACES.values(), key=lambda w: (w.order, w.key))
        if w.holds(user)
    ]


class LedgerAdminSite(AdminSite):
    site_header = "Model Ledger"
    site_title = "Model Ledger"
    index_title = "Registry, governance and audit"
    index_template = "admin/ledger/index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        context = {"workspaces": workspaces_of(request.user), **(extra_context or {})}
        return super().index(request, extra_context=context)


class LedgerAdminConfig(AdminConfig):
    """django.contrib.admin with the ledger's site as `admin.site`."""

    default_site = "eventstore.admin_site.LedgerAdminSite"


@dataclass(frozen=True)
class Row:
    """One line of a workspace table: its cells as safe HTML (or text), `key` its HTML id."""

    cells: list[Any]
    key: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    empty: str
    intro: str = ""
    actions: bool = True
    counted: bool = True


def render_workspace(
    model_admin: Any, request: HttpRequest, *, title: str, intro: str, sections: list[Section]
) -> TemplateResponse:
    """A workspace page in the admin's frame, for a view a ModelAdmin routes (get_urls)."""
    context = {
        **model_admin.admin_site.each_context(request),
        # The person's workspaces take the place of the list of tables.
        "is_nav_sidebar_enabled": False,
        "workspaces": workspaces_of(request.user),
        "here": request.path,
        "title": title,
        "intro": intro,
        "sections": sections,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, WORKSPACE_TEMPLATE, context)


# People and times as every admin page shows them (core.display): names resolved from the
# log's references, times to the minute in the reader's time zone.
actor_names = display.actor_names
people = display.names_of
person = display.name_of
when = display.when


def badge(text: str, kind: str = "") -> str:
    return format_html('<span class="ws-badge {}">{}</span>', kind, text.replace("_", " "))


def button(url: str, label: str, name: str = "") -> str:
    return format_html('<a class="button {}" href="{}">{}</a>', name, url, label)
