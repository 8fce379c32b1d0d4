"""How pages show people and times. The log keeps people as references (`user:2`, a user id);
staff read them by name, resolved here when a page is drawn. Times are shown in the time zone
the request activated (the viewer's own, see api.middleware.ViewerTimeZone), to the minute."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone

USER_REF = re.compile(r"user:([0-9]{1,18})")
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


def names_of(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Each user id's display name: the full name where one is set, else the username; an id
    without an account reads `user <id> (deleted)`."""
    ids = {int(pk) for pk in user_ids if pk is not None}
    users = get_user_model().objects.filter(pk__in=ids)
    names = {user.pk: (user.get_full_name() or "").strip() or user.get_username() for user in users}
    return {pk: names.get(pk, f"user {pk} (deleted)") for pk in ids}


def with_person_name(queryset, user_field: str, name: str = "person_name"):
    """The rows with `name`: the display name of the user `user_field` holds (as names_of
    gives it), so a list shows people in its one query."""
    users = get_user_model().objects.filter(pk=OuterRef(user_field))
    full = Trim(Concat("first_name", Value(" "), "last_name"))
    shown = users.annotate(shown=Coalesce(NullIf(full, Value("")), "username")).values("shown")
    return queryset.annotate(**{name: Subquery(shown[:1])})


def name_of(user_id: int | None) -> str:
    if user_id is None:
        return "-"
    return names_of([user_id])[int(user_id)]


def actor_names(refs: Iterable[str]) -> dict[str, str]:
    """Each actor reference in words: `user:<id>` by name, `system:<task>` as the system."""
    refs = {ref for ref in refs if ref}
    people = names_of(int(m[1]) for ref in refs if (m := USER_REF.fullmatch(ref)))
    named = {}
    for ref in refs:
        kind, _, rest = ref.partition(":")
        if match := USER_REF.fullmatch(ref):
            named[ref] = people[int(match[1])]
        elif kind == "system":
            named[ref] = f"the system ({rest})"
        else:
            named[ref] = ref
    return named


def person(value: str | int | None) -> str:
    """One person in words, from an actor reference (`user:2`, `system:beat`) or a user id."""
    if value in (None, ""):
        return "-"
    if isinstance(value, int):
        return name_of(value)
    return actor_names([value])[value]


def when(value: datetime | str | None) -> str:
    """A moment in the active time zone, to the minute: `2026-12-03 09:41 CET`."""
    if value in (None, ""):
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return timezone.localtime(value).strftime(TIME_FORMAT)
