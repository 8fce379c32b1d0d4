"""Filter backends that refuse what they do not understand instead of ignoring it."""

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from api.params import parse_timestamp


class StrictOrderingFilter(OrderingFilter):
    """One ordering field (optionally '-' for descending); anything else is a 400."""

    def _choices(self, view, request=None, queryset=None):
        fields = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        return sorted(fields) + sorted(f"-{name}" for name in fields)

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is not None:
            choices = self._choices(view, request, queryset)
            if raw not in choices:
                raise ValidationError({self.ordering_param: f"one of {', '.join(choices)}"})
            return [raw]
        return self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field ('-' for descending).",
                "schema": {"type": "string", "enum": self._choices(view)},
            }
        ]


class StrictFilterSet(django_filters.FilterSet):
    """A choice filter sent with an empty value is an error, not a silently skipped filter."""

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        for name, declared in self.filters.items():
            if isinstance(declared, django_filters.ChoiceFilter) and self.data.get(name) == "":
                self.form.add_error(
                    name,
                    DjangoValidationError(
                        "an empty value is not one of the choices", code="invalid_choice"
                    ),
                )
        return not self.form.errors


class _TimestampField(forms.Field):
    default_error_messages = {"invalid": "an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z"}

    def to_python(self, value: Any) -> datetime | None:
        if value is None:  # not sent
            return None
        # Sent empty is not a timestamp either: the schema's date-time has no empty form.
        moment = parse_timestamp(value) if value else None
        if moment is None:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        return moment


class TimestampFilter(django_filters.IsoDateTimeFilter):
    """A timestamp read the way `as_of` reads one (UTC when no offset is given), so every
    RFC 3339 date-time the schema allows is understood; anything else is a 400. (The schema
    calls it a date-time, as for any IsoDateTimeFilter.)"""

    field_class = _TimestampField
