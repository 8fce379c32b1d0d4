"""Subscribers: reactions appended in the cause's transaction, never on replay, bounded, keyed."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from eventstore import projection, store, subscribers
from eventstore.models import Event, OutboxMessage
from eventstore.subscribers import MAX_REACTION_DEPTH, ReactionChainError
from eventstore.types import NO_STREAM, NewEvent, Reaction, SideEffect, StreamRef
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe():
    """Register throwaway subscribers for the test and remove them afterwards."""
    added = []

    def register(*event_types):
        def decorate(fn):
            subscribers.subscriber(*event_types)(fn)
            added.append(fn)
            return fn

        return decorate

    yield register
    for fn in added:
        subscribers.unsubscribe(fn)


def _counter_stream(cause) -> StreamRef:
    return StreamRef(uuid.uuid5(uuid.NAMESPACE_URL, f"counter:{cause.stream_id}"), "test.Counter")


def test_a_subscriber_appends_in_the_same_transaction_with_the_cause_as_causation(meta, subscribe):
    @subscribe("test.Opened")
    def count_opened(event):
        target = _counter_stream(event)
        yield Reaction(
            target,
            NO_STREAM,
            (NewEvent("test.Counted", {"of": str(event.stream_id)}),),
            (SideEffect("tests.never_sent", {"n": 1}),),
        )

    stream = new_stream()
    outbox_before = OutboxMessage.objects.count()
    store.append(stream, NO_STREAM, events("Opened"), {**meta, "idempotency_key": "k-1"})

    counted = store.read_stream(_counter_stream(store.read_stream(stream.id)[0]).id)
    assert [e.type for e in counted] == ["test.Counted"]
    reaction = counted[0]
    assert reaction.metadata["actor"] == meta["actor"]
    assert reaction.metadata["causation_id"] == f"{stream.id}@1"
    assert reaction.metadata["idempotency_key"].startswith(f"reaction:{stream.id}:1:")
    assert OutboxMessage.objects.count() == outbox_before + 1


def test_subscribers_see_the_projections_of_their_cause(meta, subscribe):
    from eventstore.models import StreamIndex

    seen = []

    @subscribe("test.Opened")
    def look(event):
        seen.append(StreamIndex.objects.filter(stream_id=event.stream_id).exists())
        return ()

    store.append(new_stream(), NO_STREAM, events("Opened"), meta)
    assert seen == [True]


class SubscriberFailed(Exception):
    pass


@pytest.mark.parametrize("inside_caller_transaction", [False, True])
def test_a_failing_subscriber_rolls_back_the_whole_command(
    pristine_ledger, meta, subscribe, inside_caller_transaction
):
    @subscribe("test.Opened")
    def react_then_fail(event):
        yield Reaction(_counter_stream(event), NO_STREAM, (NewEvent("test.Counted", {}),))
        raise SubscriberFailed

    stream = new_stream()
    with pytest.raises(SubscriberFailed):
        if inside_caller_transaction:
            with transaction.atomic():
                store.append(stream, NO_STREAM, events("Opened"), meta)
        else:
            store.append(stream, NO_STREAM, events("Opened"), meta)
    assert not Event.objects.filter(stream_id=stream.id).exists()
    assert not Event.objects.filter(stream_type="test.Counter").exists()


def test_reacting_again_to_the_same_event_appends_nothing(meta, subscribe):
    calls = []

    @subscribe("test.Opened")
    def count_with_a_changing_payload(event):
        calls.append(event.version)
        # Data that differs on every call (a due date, say) is still the same reaction.
        target = _counter_stream(event)
        yield Reaction(target, None, (NewEvent("test.Counted", {"call": len(calls)}),))

    stream = new_stream()
    store.append(stream, NO_STREAM, events("Opened"), meta)
    cause = store.read_stream(stream.id)[0]
    with transaction.atomic():
        (again,) = store.react([cause])
    assert again.replayed
    assert len(calls) == 2
    assert [e.version for e in store.read_stream(_counter_stream(cause).id)] == [1]


def test_a_command_retried_with_its_key_reacts_once(meta, subscribe):
    @subscribe("test.Opened")
    def count(event):
        yield Reaction(_counter_stream(event), None, (NewEvent("test.Counted", {}),))

    stream = new_stream()
    keyed = {**meta, "idempotency_key": "retried"}
    first = store.append(stream, NO_STREAM, events("Opened"), keyed)
    second = store.append(stream, NO_STREAM, events("Opened"), keyed)
    assert second.replayed and not first.replayed
    target = _counter_stream(store.read_stream(stream.id)[0])
    assert store.stream_version(target.id) == 1


def test_reactions_chain_to_a_fixed_depth_and_no_deeper(pristine_ledger, meta, subscribe):
    def hop_stream(event) -> StreamRef:
        return StreamRef(uuid.uuid5(uuid.NAMESPACE_URL, f"hop:{event.stream_id}"), "test.Hop")

    @subscribe("test.Opened", "test.Hopped")
    def hop(event):
        depth = event.data.get("depth", 0) + 1
        if depth <= limit:
            yield Reaction(
                hop_stream(event), NO_STREAM, (NewEvent("test.Hopped", {"depth": depth}),)
            )

    limit = MAX_REACTION_DEPTH
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Opened"), meta)
    hops = Event.objects.filter(stream_type="test.Hop", type="test.Hopped")
    assert hops.count() == MAX_REACTION_DEPTH

    limit = MAX_REACTION_DEPTH + 1
    deeper = new_stream()
    before = Event.objects.count()
    with pytest.raises(ReactionChainError, match="deeper than"):
        store.append(deeper, NO_STREAM, events("Opened"), meta)
    assert Event.objects.count() == before


def test_a_loop_of_reactions_is_an_error_and_records_nothing(pristine_ledger, meta, subscribe):
    ping_target = StreamRef(uuid.uuid4(), "test.Ping")
    pong_target = StreamRef(uuid.uuid4(), "test.Pong")

    @subscribe("test.Opened", "test.Ponged")
    def ping(event):
        yield Reaction(ping_target, None, (NewEvent("test.Pinged", {}),))

    @subscribe("test.Pinged")
    def pong(event):
        yield Reaction(pong_target, None, (NewEvent("test.Ponged", {}),))

    stream = new_stream()
    with pytest.raises(ReactionChainError, match="loop"):
        store.append(stream, NO_STREAM, events("Opened"), meta)
    for target in (stream, ping_target, pong_target):
        assert store.stream_version(target.id) == 0


def test_rebuilding_projections_never_runs_subscribers(meta, subscribe):
    calls = []

    @subscribe("test.Opened")
    def count(event):
        calls.append(event.stream_id)
        yield Reaction(_counter_stream(event), None, (NewEvent("test.Counted", {}),))

    for _ in range(3):
        store.append(new_stream(), NO_STREAM, events("Opened"), meta)
    assert len(calls) == 3
    total = Event.objects.count()
    before = {m: projection.checksum(m) for m in projection.registered_tables()}

    projection.rebuild()

    assert len(calls) == 3
    assert Event.objects.count() == total
    assert {m: projection.checksum(m) for m in projection.registered_tables()} == before


def test_appends_with_no_subscriber_commit_as_before(meta):
    stream = new_stream()
    result = store.append(stream, NO_STREAM, events("Nobody", "Listens"), meta)
    assert result.last_version == 2
    assert store.stream_version(stream.id) == 2
