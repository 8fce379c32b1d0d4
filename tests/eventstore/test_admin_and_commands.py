"""The admin shows the log read-only; management commands are thin and report what they did."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from eventstore import store
from eventstore.models import Checkpoint, Event
from eventstore.types import NO_STREAM, NewEvent, SideEffect
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db


def test_event_admin_lists_and_shows_events_but_offers_no_changes(admin_client, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Opened"), meta)
    event = Event.objects.get(stream_id=stream.id)
    listing = admin_client.get("/admin/eventstore/event/")
    assert listing.status_code == 200
    assert b"test.Opened" in listing.content
    detail = admin_client.get(f"/admin/eventstore/event/{event.position}/change/")
    assert detail.status_code == 200
    assert bytes(event.hash).hex().encode() in detail.content
    assert b'name="_save"' not in detail.content
    assert admin_client.get("/admin/eventstore/event/add/").status_code == 403
    assert admin_client.post(f"/admin/eventstore/event/{event.position}/delete/").status_code == 403


def test_admin_requires_login_when_anonymous(client):
    response = client.get("/admin/eventstore/event/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_write_checkpoint_prints_the_signed_note_when_run(pristine_ledger, meta):
    store.append(new_stream(), NO_STREAM, events("A", "B"), meta)
    out = io.StringIO()
    call_command("write_checkpoint", stdout=out)
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.tree_size == 2
    assert checkpoint.note in out.getvalue()


def test_relay_once_reports_sent_messages_when_rows_are_due(pristine_ledger, meta, monkeypatch):
    from eventstore import outbox

    published = []
    monkeypatch.setattr(outbox, "_publish", lambda task, kwargs, mid: published.append(task))
    monkeypatch.setattr(outbox, "_dispatch_quietly", lambda ids: None)  # leave it to the relay
    store.append(
        new_stream(),
        NO_STREAM,
        [NewEvent("test.A", {})],
        meta,
        side_effects=[SideEffect("tests.anything", {"x": 1})],
    )
    out = io.StringIO()
    call_command("relay_outbox", "--once", stdout=out)
    assert "sent 1, failed 0" in out.getvalue()
    assert published == ["tests.anything"]


def test_ledger_proof_prints_proofs_that_verify_when_checkpoints_exist(pristine_ledger, meta):
    import json

    first = store.append(new_stream(), NO_STREAM, events("A", "B", "C"), meta)
    call_command("write_checkpoint", stdout=io.StringIO())
    store.append(new_stream(), NO_STREAM, events("D", "E"), meta)
    call_command("write_checkpoint", stdout=io.StringIO())
    out = io.StringIO()
    call_command("ledger_proof", "--position", str(first.positions[1]), stdout=out)
    inclusion = json.loads(out.getvalue())
    assert inclusion["verifies"] is True
    assert inclusion["tree_size"] == 5
    out = io.StringIO()
    call_command("ledger_proof", "--consistency", "3", "5", stdout=out)
    assert json.loads(out.getvalue())["verifies"] is True


def test_ledger_proof_fails_clearly_when_the_event_is_not_yet_in_a_checkpoint(
    pristine_ledger, meta
):
    from django.core.management import CommandError

    result = store.append(new_stream(), NO_STREAM, events("A"), meta)
    with pytest.raises(CommandError, match="no checkpoint"):
        call_command("ledger_proof", "--position", str(result.positions[0]))
