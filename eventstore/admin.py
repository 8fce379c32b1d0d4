"""Read-only admin for the log: events, stream summaries, checkpoints and the outbox."""

import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from core.display import actor_names, person, when
from eventstore import store
from eventstore.models import Checkpoint, Event, OutboxMessage, StreamIndex


class RecordedByName:
    """`recorded_by` (an actor reference) shown as the person's name."""

    @admin.display(description="recorded by", ordering="recorded_by")
    def recorded_by_name(self, obj):
        return person(obj.recorded_by)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing here is written through the admin: the log only grows through commands."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def stream_history(stream_id) -> str:
    """A stream's events as an HTML table for an object's admin page, oldest first; actors by
    name, times in the viewer's time zone."""
    events = list(store.read_stream(stream_id, upcast=False))
    names = actor_names(e.metadata.get("actor", "") for e in events)
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (
                e.version,
                e.type,
                when(e.recorded_at),
                names.get(e.metadata.get("actor", ""), "-"),
                bytes(e.hash).hex()[:16],
            )
            for e in events
        ),
    )
    return format_html(
        "<table><thead><tr><th>v</th><th>event</th><th>recorded</th><th>actor</th>"
        "<th>hash</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def _pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "type", "stream_type", "stream_id", "version", "recorded_at")
    list_filter = ("stream_type", "type")
    search_fields = ("=stream_id", "type")
    date_hierarchy = "recorded_at"
    show_full_result_count = False
    fields = (
        "position",
        "stream_id",
        "stream_type",
        "version",
        "type",
        "schema_version",
        "data_pretty",
        "metadata_pretty",
        "occurred_at",
        "recorded_at",
        "prev_hash_hex",
        "hash_hex",
    )
    readonly_fields = fields

    @admin.display(description="data")
    def data_pretty(self, obj):
        return _pretty(obj.data)

    @admin.display(description="metadata")
    def metadata_pretty(self, obj):
        return _pretty(obj.metadata)

    @admin.display(description="previous hash")
    def prev_hash_hex(self, obj):
        return bytes(obj.prev_hash).hex()

    @admin.display(description="hash")
    def hash_hex(self, obj):
        return bytes(obj.hash).hex()


@admin.register(StreamIndex)
class StreamIndexAdmin(ReadOnlyAdmin):
    list_display = ("stream_id", "stream_type", "first_event_type", "created_at", "creator")
    list_filter = ("stream_type",)
    search_fields = ("=stream_id",)

    @admin.display(description="created by", ordering="created_by")
    def creator(self, obj):
        return person(obj.created_by)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "tree_size", "root_hex", "key_id", "created_at")
    fields = ("id", "tree_size", "root_hex", "origin", "key_id", "note", "created_at")
    readonly_fields = fields

    @admin.display(description="root")
    def root_hex(self, obj):
        return bytes(obj.root_hash).hex()


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "task",
        "created_at",
        "attempts",
        "dispatched_at",
        "completed_at",
        "last_error",
    )
    list_filter = ("task",)
