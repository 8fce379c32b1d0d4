"""Contract tests of append and read: versions, hash chain, conflicts, idempotency, time travel;
the process caches (heads, states) and append_all held to fresh reads and single appends."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import clock
from core.errors import InvalidInput
from eventstore import store
from eventstore.hashing import GENESIS, recorded_hash
from eventstore.models import Event, StreamIndex
from eventstore.store import caches
from eventstore.types import (
    NO_STREAM,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidEvent,
    NewEvent,
)
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db


def test_versions_start_at_one_and_chain_hashes_when_appending_in_batches(meta):
    stream = new_stream()
    first = store.append(stream, NO_STREAM, events("A", "B"), meta)
    second = store.append(stream, 2, events("C"), meta)
    assert (first.first_version, first.last_version) == (1, 2)
    assert (second.first_version, second.last_version) == (3, 3)
    recorded = store.read_stream(stream.id)
    assert [e.version for e in recorded] == [1, 2, 3]
    assert recorded[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(recorded):
        assert after.prev_hash == before.hash
    assert all(recorded_hash(e) == e.hash for e in recorded)
    assert [e.position for e in recorded] == sorted(first.positions + second.positions)


def test_append_conflicts_with_current_version_when_stream_moved_on(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B"), meta)
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append(stream, 1, events("C"), meta)
    assert caught.value.actual == 2
    assert caught.value.expected == 1
    assert caught.value.status == 409


def test_append_conflicts_when_creating_a_stream_that_exists(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    with pytest.raises(ConcurrencyConflict) as caught, transaction.atomic():
        store.append(stream, NO_STREAM, events("B"), meta)
    assert caught.value.actual == 1
    assert store.stream_version(stream.id) == 1


def test_append_conflicts_when_expecting_a_version_of_a_missing_stream(meta):
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append(new_stream(), 3, events("A"), meta)
    assert caught.value.actual == 0


def test_any_version_appends_to_new_and_existing_streams(meta):
    stream = new_stream()
    assert store.append(stream, None, events("A"), meta).last_version == 1
    assert store.append(stream, None, events("B", "C"), meta).last_version == 3


def test_nothing_is_appended_when_one_event_of_a_batch_is_invalid(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    bad = [NewEvent("test.B", {"ok": 1}), NewEvent("test.C", {"bad": "nul\x00byte"})]
    with pytest.raises(InvalidEvent, match=r"U\+0000"), transaction.atomic():
        store.append(stream, 1, bad, meta)
    assert store.stream_version(stream.id) == 1
    assert Event.objects.filter(stream_id=stream.id).count() == 1


@pytest.mark.parametrize(
    "data",
    [{"x": float("nan")}, {"x": 2**60}, {"x": {1, 2}}, {"x": "\ud800"}, {1: "non-str key"}],
)
def test_bad_data_is_refused_before_anything_is_written_when_not_json_exact(meta, data):
    stream = new_stream()
    with pytest.raises(InvalidEvent):
        store.append(stream, NO_STREAM, [NewEvent("test.A", data)], meta)
    assert store.stream_version(stream.id) == 0


def test_stream_type_cannot_change_when_appending_to_an_existing_stream(meta):
    stream = new_stream("test.Thing")
    store.append(stream, NO_STREAM, events("A"), meta)
    with pytest.raises(InvalidEvent, match=r"is a test\.Thing"), transaction.atomic():
        store.append(type(stream)(stream.id, "test.Other"), 1, events("B"), meta)


def test_same_idempotency_key_appends_once_when_repeated(meta):
    stream = new_stream()
    keyed = {**meta, "idempotency_key": "create-1"}
    first = store.append(stream, NO_STREAM, events("A", "B"), keyed)
    again = store.append(stream, NO_STREAM, events("A", "B"), keyed)
    assert again.replayed and not first.replayed
    assert (again.first_version, again.last_version, again.positions) == (
        first.first_version,
        first.last_version,
        first.positions,
    )
    assert Event.objects.filter(stream_id=stream.id).count() == 2


def test_idempotency_key_is_refused_when_reused_for_a_different_request(meta):
    stream = new_stream()
    keyed = {**meta, "idempotency_key": "k"}
    store.append(stream, NO_STREAM, events("A"), keyed)
    with pytest.raises(IdempotencyKeyReused), transaction.atomic():
        store.append(stream, 1, events("B"), keyed)
    assert store.stream_version(stream.id) == 1


def test_idempotency_key_is_per_actor_when_two_actors_use_the_same_key(meta):
    stream = new_stream()
    store.append(stream, None, events("A"), {**meta, "idempotency_key": "k"})
    other = {**meta, "actor": "user:2", "idempotency_key": "k"}
    result = store.append(stream, None, events("A"), other)
    assert not result.replayed
    assert store.stream_version(stream.id) == 2


def test_stream_reads_earlier_state_when_read_as_of_a_position_or_time(meta):
    stream = new_stream()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with clock.frozen(start) as frozen:
        first = store.append(stream, NO_STREAM, [NewEvent("test.Set", {"value": 1})], meta)
        frozen.advance(timedelta(hours=1))
        store.append(stream, 1, [NewEvent("test.Set", {"value": 2})], meta)

    def evolve(state, event):
        return event.data["value"]

    assert store.load(stream.id, evolve, None) == (2, 2)
    assert store.load(stream.id, evolve, None, up_to_position=first.positions[-1]) == (1, 1)
    assert store.load(stream.id, evolve, None, as_of=start + timedelta(minutes=30)) == (1, 1)
    assert store.load(stream.id, evolve, None, as_of=start - timedelta(seconds=1)) == (None, 0)


@pytest.mark.django_db(transaction=True)
def test_recorded_at_never_goes_back_in_a_stream_when_the_clock_does(meta):
    """Appends read the clock before they know the head; a later version must still not be
    recorded before an earlier one, whichever way the head was found."""
    stream = new_stream()
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def evolve(state, event):
        return [*state, event.type]

    with clock.frozen(start) as frozen:
        store.append(stream, NO_STREAM, events("A"), meta)
        frozen.set(start - timedelta(hours=1))
        store.append(stream, 1, events("B"), meta)  # the head this process cached
        caches.heads.pop(stream.id, None)
        store.append(stream, 2, events("C"), meta)  # the head read from the log
        store.append(stream, None, events("D"), meta)  # any version
    recorded = store.read_stream(stream.id)
    assert [e.recorded_at for e in recorded] == [start] * 4
    assert all(recorded_hash(e) == e.hash for e in recorded)
    assert store.load(stream.id, evolve, [], as_of=start - timedelta(minutes=30)) == ([], 0)
    assert store.load(stream.id, evolve, [], as_of=start) == (
        ["test.A", "test.B", "test.C", "test.D"],
        4,
    )


def test_stream_read_as_of_a_time_is_a_prefix_when_the_log_holds_times_out_of_order(meta):
    """A log written before recorded_at was kept monotonic may hold version N+1 recorded
    before version N: reading as of a time stops at the first version recorded after it."""
    stream = new_stream()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start, start - timedelta(hours=1), start + timedelta(hours=1)]
    with connection.cursor() as cursor:
        prev = GENESIS
        for version, at in enumerate(times, start=1):
            digest = bytes([version]) * 32
            cursor.execute(
                "INSERT INTO eventstore_event (stream_id, stream_type, version, type,"
                " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
                " VALUES (%s, %s, %s, %s, 1, '{}', '{}', %s, %s, %s, %s)",
                (stream.id, stream.type, version, f"test.V{version}", at, at, prev, digest),
            )
            prev = digest

    def versions(as_of):
        return [e.version for e in store.read_stream(stream.id, as_of=as_of)]

    assert versions(start - timedelta(minutes=30)) == []
    assert versions(start) == [1, 2]
    assert versions(start + timedelta(minutes=30)) == [1, 2]
    assert versions(start + timedelta(hours=2)) == [1, 2, 3]


def test_stream_index_row_is_written_when_a_stream_starts(meta):
    stream = new_stream()
    first = store.append(stream, NO_STREAM, events("A", "B"), meta)
    store.append(stream, 2, events("C"), meta)
    row = StreamIndex.objects.get(stream_id=stream.id)
    assert row.stream_type == stream.type
    assert row.first_position == first.positions[0]
    assert row.first_event_type == "test.A"
    assert row.created_by == meta["actor"]


def test_metadata_keeps_personal_data_out_when_actor_has_an_ip_address(settings):
    from core.actors import Actor

    actor = Actor.system("t", client_ip="203.0.113.7")
    meta = actor.metadata(pseudonym_key=settings.LEDGER_PSEUDONYM_KEY)
    assert "203.0.113.7" not in str(meta)
    assert meta["client_ip"].startswith("hmac-sha256:")
    assert (
        meta["client_ip"]
        == actor.metadata(pseudonym_key=settings.LEDGER_PSEUDONYM_KEY)["client_ip"]
    )


json_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(json_text, json_values, max_size=5))
def test_hash_still_verifies_when_any_json_data_round_trips_through_jsonb(meta, data):
    stream = new_stream()
    store.append(stream, NO_STREAM, [NewEvent("test.Any", data)], meta)
    (recorded,) = store.read_stream(stream.id)
    assert recorded_hash(recorded) == recorded.hash


def test_update_delete_and_truncate_are_rejected_when_the_application_role_tries(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    for statement in (
        "UPDATE eventstore_event SET data = '{}' WHERE stream_id = %s",
        "DELETE FROM eventstore_event WHERE stream_id = %s",
        "TRUNCATE eventstore_event CASCADE",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, (stream.id,) if "%s" in statement else ())
    assert Event.objects.filter(stream_id=stream.id).count() == 1


def test_triggers_still_fire_when_replication_role_is_replica(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM eventstore_event WHERE stream_id = %s", (stream.id,))


def test_restricted_role_can_append_but_not_change_or_unprotect_the_log(meta):
    """A deployment's application role: INSERT and SELECT, not the owner of the tables."""
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledger_app_test')"
            " THEN CREATE ROLE ledger_app_test NOLOGIN; END IF; END $$"
        )
        cursor.execute("GRANT SELECT, INSERT ON eventstore_event TO ledger_app_test")
        cursor.execute("SET LOCAL ROLE ledger_app_test")
        cursor.execute("SELECT count(*) FROM eventstore_event WHERE stream_id = %s", (stream.id,))
        assert cursor.fetchone()[0] == 1
    for statement in (
        "UPDATE eventstore_event SET data = '{}'",
        "DELETE FROM eventstore_event",
        "TRUNCATE eventstore_event",
        "ALTER TABLE eventstore_event DISABLE TRIGGER USER",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)


def test_append_reads_the_head_when_this_process_has_not_seen_the_stream(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    caches.heads.pop(stream.id, None)
    result = store.append(stream, 1, events("B"), meta)
    assert result.last_version == 2
    recorded = store.read_stream(stream.id)
    assert recorded[1].prev_hash == recorded[0].hash


@pytest.mark.django_db(transaction=True)
def test_cached_head_conflicts_when_another_process_moved_the_stream(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    assert caches.heads[stream.id].version == 1  # learnt on commit
    cached = caches.heads[stream.id]
    store.append(stream, 1, events("B"), meta)
    caches.heads[stream.id] = cached  # as if another process had appended version 2
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append(stream, 1, events("C"), meta)
    assert caught.value.actual == 2
    assert store.stream_version(stream.id) == 2


@pytest.mark.django_db(transaction=True)
def test_cached_head_replays_an_idempotent_request_when_repeated(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    keyed = {**meta, "idempotency_key": "fast"}
    first = store.append(stream, 1, events("B"), keyed)
    again = store.append(stream, 1, events("B"), keyed)
    assert again.replayed
    assert again.positions == first.positions
    assert store.stream_version(stream.id) == 2


@pytest.mark.django_db(transaction=True)
def test_appending_without_projectors_still_commits(meta, monkeypatch):
    from eventstore import projection

    monkeypatch.setattr(projection, "_projectors", {})
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    assert store.stream_version(stream.id) == 1


def test_cached_load_trusts_the_process_state_and_a_stale_one_fails_the_append(
    transactional_db,
):
    from eventstore.types import RecordedEvent

    def count(total: int, event: RecordedEvent) -> int:
        return total + 1

    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made", "Changed"), {"actor": "tester"})
    assert store.load(stream.id, count, 0) == (2, 2)  # committed: now cached
    store.append(stream, 2, events("Changed"), {"actor": "someone-else"})
    assert store.load(stream.id, count, 0, cached=True) == (2, 2)  # stale, by design
    with pytest.raises(ConcurrencyConflict):
        store.append(stream, 2, events("Changed"), {"actor": "tester"})
    assert store.load(stream.id, count, 0) == (3, 3)  # a plain load catches up


def test_remembered_state_is_kept_only_once_its_events_commit(transactional_db):
    from eventstore.types import RecordedEvent

    def count(total: int, event: RecordedEvent) -> int:
        return total + 1

    stream = new_stream()
    with pytest.raises(RuntimeError), transaction.atomic():
        result = store.append(stream, NO_STREAM, events("Changed"), {"actor": "tester"})
        assert [e.version for e in result.events] == [1]
        store.remember(stream.id, count, 1, 99)
        raise RuntimeError("roll back")
    assert store.load(stream.id, count, 0, cached=True) == (0, 0)
    result = store.append(stream, NO_STREAM, events("Changed"), {"actor": "tester"})
    store.remember(stream.id, count, result.last_version, 1)
    assert store.load(stream.id, count, 0, cached=True) == (1, 1)


# -- append_all: several streams, one transaction, two round trips --------------------------


def test_append_all_appends_to_several_streams_with_their_own_chains(meta):
    first, second = new_stream(), new_stream("test.Other")
    store.append(first, NO_STREAM, events("A"), meta)
    results = store.append_all(
        [
            store.Append(first, 1, events("B", "C"), meta),
            store.Append(second, NO_STREAM, events("X"), meta),
        ]
    )
    assert [(r.stream_id, r.first_version, r.last_version) for r in results] == [
        (first.id, 2, 3),
        (second.id, 1, 1),
    ]
    assert results[0].positions[-1] < results[1].positions[0]
    for stream in (first, second):
        recorded = store.read_stream(stream.id)
        assert recorded[0].prev_hash == GENESIS
        for before, after in itertools.pairwise(recorded):
            assert after.prev_hash == before.hash
        assert all(recorded_hash(e) == e.hash for e in recorded)
    assert StreamIndex.objects.filter(stream_id=second.id, stream_type="test.Other").exists()


def test_append_all_repeated_with_the_same_key_returns_the_first_result_and_appends_nothing(
    meta,
):
    first, second = new_stream(), new_stream()
    keyed = {**meta, "idempotency_key": "batch-1"}
    batch = [store.Append(first, NO_STREAM, events("A"), keyed)]
    original = store.append_all([*batch, store.Append(second, NO_STREAM, events("X"), meta)])
    third = new_stream()
    again = store.append_all([*batch, store.Append(third, NO_STREAM, events("X"), meta)])
    assert len(again) == 1
    assert again[0].replayed
    assert again[0].positions == original[0].positions
    assert not Event.objects.filter(stream_id=third.id).exists()
    with pytest.raises(IdempotencyKeyReused):
        store.append_all([store.Append(first, 1, events("Different"), keyed)])


def test_append_all_leaves_nothing_when_its_first_append_conflicts(meta):
    first, second = new_stream(), new_stream()
    store.append(first, NO_STREAM, events("A", "B"), meta)
    with pytest.raises(ConcurrencyConflict) as conflict, transaction.atomic():
        store.append_all(
            [
                store.Append(first, 1, events("Stale"), meta),
                store.Append(second, NO_STREAM, events("X"), meta),
            ]
        )
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert not Event.objects.filter(stream_id=second.id).exists()
    assert store.stream_version(first.id) == 2


def test_append_all_leaves_nothing_when_a_later_append_conflicts(meta):
    first, second = new_stream(), new_stream()
    store.append(second, NO_STREAM, events("Taken"), meta)
    with pytest.raises(ConcurrencyConflict), transaction.atomic():
        store.append_all(
            [
                store.Append(first, NO_STREAM, events("A"), meta),
                store.Append(second, NO_STREAM, events("X"), meta),
            ]
        )
    assert not Event.objects.filter(stream_id=first.id).exists()
    assert [e.type for e in store.read_stream(second.id)] == ["test.Taken"]


def test_append_all_refuses_keys_after_the_first_and_unknown_versions(meta):
    keyed = {**meta, "idempotency_key": "late-key"}
    with pytest.raises(InvalidEvent):
        store.append_all(
            [
                store.Append(new_stream(), NO_STREAM, events("A"), meta),
                store.Append(new_stream(), NO_STREAM, events("B"), keyed),
            ]
        )
    with pytest.raises(InvalidEvent):
        store.append_all([store.Append(new_stream(), None, events("A"), meta)])
    with pytest.raises(InvalidEvent):
        store.append_all([])


def test_stream_versions_reads_every_stream_in_one_query_when_some_do_not_exist(
    meta, django_assert_num_queries
):
    one, two, missing = new_stream(), new_stream(), new_stream()
    store.append(one, NO_STREAM, events("A"), meta)
    store.append(two, NO_STREAM, events("A", "B"), meta)
    with django_assert_num_queries(1):
        versions = store.stream_versions([one.id, str(two.id), missing.id])
    assert versions == {one.id: 1, two.id: 2, missing.id: 0}
    with django_assert_num_queries(1):
        store.require_versions({one.id: 1, str(two.id): 2, missing.id: 0})
    with django_assert_num_queries(0):
        store.require_versions(None)
        store.require_versions({})


def test_require_versions_names_the_stream_that_moved_when_one_of_several_did(meta):
    seen, moved = new_stream(), new_stream()
    store.append(seen, NO_STREAM, events("A"), meta)
    store.append(moved, NO_STREAM, events("A"), meta)
    store.append(moved, 1, events("B"), meta)
    with pytest.raises(ConcurrencyConflict) as caught:
        store.require_versions({seen.id: 1, moved.id: 1})
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (moved.id, 1, 2)
    assert str(moved.id) in caught.value.detail
    assert caught.value.status == 409


STREAM = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize(
    "expected", [{"not-a-uuid": 1}, {STREAM: -1}, {STREAM: True}, {STREAM: "1"}]
)
def test_require_versions_refuses_bad_input_when_ids_or_versions_are_not_valid(expected):
    with pytest.raises(InvalidInput):
        store.require_versions(expected)


# -- process caches against a fresh, uncached read ------------------------------------------


def _history(state: tuple, event) -> tuple:
    return (*state, (event.version, event.type, event.hash))


def _fresh(stream_id) -> tuple:
    """The plain way: fold every event of the stream as read now, no cached state."""
    state: tuple = ()
    for event in store.read_stream(stream_id):
        state = _history(state, event)
    return state


def test_loads_from_the_cached_state_equal_a_fresh_fold_as_the_stream_grows(transactional_db):
    stream = new_stream()
    meta = {"actor": "tester"}
    for size in (1, 3, 1, 2, 5):
        store.append(stream, None, events(*["Grew"] * size), meta)
        state, version = store.load(stream.id, _history, ())
        assert state == _fresh(stream.id)
        assert version == len(state) == store.stream_version(stream.id)
        assert store.load(stream.id, _history, (), cached=True) == (state, version)
    with transaction.atomic():  # inside a transaction: read, but nothing cached
        store.append(stream, None, events("Grew"), meta)
        assert store.load(stream.id, _history, ())[0] == _fresh(stream.id)
    assert store.load(stream.id, _history, ())[0] == _fresh(stream.id)


def test_load_locked_from_known_state_equals_load_locked_with_empty_caches(transactional_db):
    stream = new_stream()
    meta = {"actor": "tester"}
    for size in (2, 1, 3):
        store.append(stream, None, events(*["Grew"] * size), meta)
        for remembered in (False, True):
            if remembered:
                with transaction.atomic():
                    state, head = store.load_locked(stream, _history, ())
                store.remember(stream.id, _history, head.version, state)  # on commit: at once here
            with transaction.atomic():
                known = store.load_locked(stream, _history, ())
            caches.states.pop((stream.id, _history), None)
            caches.heads.pop(stream.id, None)
            with transaction.atomic():
                assert store.load_locked(stream, _history, ()) == known
            assert known[0] == _fresh(stream.id)
            last = store.read_stream(stream.id)[-1]
            assert known[1] == (last.version, last.hash, last.recorded_at)


def test_appends_on_cached_heads_chain_as_appends_that_read_the_head(meta):
    """Two streams get the same appends, one on heads this process cached, one with the head
    cache emptied before every append: both chains verify, with the same versions."""
    cached, read = new_stream(), new_stream()
    for number, size in enumerate((1, 2, 4, 1)):
        version = NO_STREAM if number == 0 else store.stream_version(cached.id)
        store.append(cached, version, events(*["Grew"] * size), meta)
        caches.heads.pop(read.id, None)
        store.append(read, NO_STREAM if number == 0 else version, events(*["Grew"] * size), meta)
    streams = [store.read_stream(s.id) for s in (cached, read)]
    assert [e.version for e in streams[0]] == [e.version for e in streams[1]]
    for stream_events in streams:
        prev = GENESIS
        for event in stream_events:
            assert event.prev_hash == prev
            assert recorded_hash(event) == event.hash
            prev = event.hash


def test_append_all_gives_the_events_and_chains_that_appends_one_by_one_give(meta):
    batched = [new_stream() for _ in range(3)]
    single = [new_stream() for _ in range(3)]
    sizes = (1, 3, 2)
    store.append_all(
        [
            store.Append(stream, NO_STREAM, events(*["A"] * size), meta)
            for stream, size in zip(batched, sizes, strict=True)
        ]
    )
    for stream, size in zip(single, sizes, strict=True):
        store.append(stream, NO_STREAM, events(*["A"] * size), meta)
    for one, other in zip(batched, single, strict=True):
        a, b = store.read_stream(one.id), store.read_stream(other.id)
        assert [(e.version, e.type, e.data) for e in a] == [(e.version, e.type, e.data) for e in b]
        for event in a:
            assert recorded_hash(event) == event.hash
        assert [e.prev_hash for e in a[1:]] == [e.hash for e in a[:-1]]
        assert a[0].prev_hash == GENESIS


# -- shortcuts of the insert runner and the COMMIT, held to the plain way --------------------


def _left_by(stream, positions: list[int]) -> dict:
    """What appends to `stream` left in the log, the key table and the outbox, with each
    position written as its rank among the appends' positions (a sequence never rolls back)."""
    rank = {position: number for number, position in enumerate(positions)}
    from eventstore.models import IdempotencyKey, OutboxMessage

    return {
        "events": [
            (rank[e.pop("position")], e)
            for e in Event.objects.filter(stream_id=stream.id).order_by("version").values()
        ],
        "keys": [
            {**k, "id": None, "positions": [rank[p] for p in k["positions"]]}
            for k in IdempotencyKey.objects.filter(stream_id=stream.id).values()
        ],
        "outbox": sorted(
            (rank[m["position"]], m["task"], m["kwargs"])
            for m in OutboxMessage.objects.filter(position__in=positions).values()
        ),
        "index": [
            {**row, "first_position": rank[row["first_position"]]}
            for row in StreamIndex.objects.filter(stream_id=stream.id).values()
        ],
    }


def _event(values: dict):
    from eventstore.types import RecordedEvent

    fields = {k: v for k, v in values.items() if k not in ("xid",)}
    fields["prev_hash"], fields["hash"] = bytes(fields["prev_hash"]), bytes(fields["hash"])
    return RecordedEvent(position=0, **fields)


def _same_appends(stream, meta) -> list[int]:
    """Appends that each send one insert statement, with a key, a side effect, at a known
    version and at any; returns the positions they were given."""
    from eventstore.types import SideEffect

    results = [
        store.append(stream, NO_STREAM, events("A", "B"), meta),
        store.append(
            stream,
            2,
            events("C"),
            {**meta, "idempotency_key": f"one-statement-{stream.id}"},
            side_effects=[SideEffect("tests.noted", {"n": 1})],
        ),
        store.append(stream, None, events("D", "E"), meta),
        store.append_all([store.Append(stream, 5, events("F"), meta)]),
    ]
    flat = [r for result in results for r in (result if isinstance(result, list) else [result])]
    return [p for result in flat for p in result.positions]


def test_one_insert_statement_sent_without_a_pipeline_leaves_what_a_pipeline_leaves(
    meta, monkeypatch
):
    from eventstore import projection

    stream = new_stream()
    left = []
    with clock.frozen(datetime(2026, 3, 1, tzinfo=UTC)), transaction.atomic():
        for pipeline_from in (projection.PIPELINE_FROM, 1):  # the shortcut, then the pipeline
            monkeypatch.setattr(projection, "PIPELINE_FROM", pipeline_from)
            before = transaction.savepoint()
            positions = _same_appends(stream, meta)
            left.append(_left_by(stream, positions))
            transaction.savepoint_rollback(before)
    shortcut, pipelined = left
    assert shortcut == pipelined
    assert len(shortcut["events"]) == 6 and shortcut["keys"] and shortcut["outbox"]


@pytest.mark.django_db(transaction=True)
def test_append_sending_its_commit_with_the_writes_leaves_what_a_callers_commit_leaves(meta):
    """An append that owns its transaction queues the COMMIT behind its projection writes;
    the same appends inside a caller's atomic block leave the commit to Django. Both leave the
    same rows, and both commit (seen from another connection)."""
    from django.db import connections

    left = []
    for in_caller_transaction in (False, True):
        stream = new_stream()
        with clock.frozen(datetime(2026, 3, 1, tzinfo=UTC)):
            if in_caller_transaction:
                with transaction.atomic():
                    positions = _same_appends(stream, meta)
            else:
                positions = _same_appends(stream, meta)
        rows = _left_by(stream, positions)
        # Another stream: its id and what holds it (hashes, the key, its fingerprint).
        for _, event in rows["events"]:
            assert recorded_hash(_event(event)) == bytes(event["hash"])
            event.update(stream_id=None, hash=None, prev_hash=None)
            event["metadata"].pop("idempotency_key", None)
        for row in rows["keys"]:
            row.update(stream_id=None, key=None, fingerprint=None)
        for row in rows["index"]:
            row["stream_id"] = None
        left.append(rows)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM eventstore_event WHERE stream_id = %s", (stream.id,)
                )
                assert cursor.fetchone()[0] == 6
        finally:
            other.close()
    queued, plain = left
    assert queued == plain
