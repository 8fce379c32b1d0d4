"""The bytes an event hash covers are exactly RFC 8785 of its content object."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore.canonical import canonical_json
from eventstore.hashing import content_bytes, event_content, timestamp_text

names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(
    stream_type=names,
    type_=names,
    version=st.integers(1, 2**53 - 1),
    schema_version=st.integers(1, 1000),
    data=st.dictionaries(
        names, st.integers(-5, 5) | names | st.floats(allow_nan=False, allow_infinity=False)
    ),
    occurred=moments,
    recorded=moments,
)
def test_assembled_content_equals_canonical_json_when_fields_vary(
    stream_type, type_, version, schema_version, data, occurred, recorded
):
    stream_id = uuid.uuid4()
    metadata = {"actor": "user:1", "request_id": "r"}
    expected = canonical_json(
        event_content(
            stream_id=stream_id,
            stream_type=stream_type,
            version=version,
            type=type_,
            schema_version=schema_version,
            data=data,
            metadata=metadata,
            occurred_at=occurred,
            recorded_at=recorded,
        )
    )
    assembled = content_bytes(
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        type=type_,
        schema_version=schema_version,
        data_json=canonical_json(data),
        metadata_json=canonical_json(metadata),
        occurred_at=occurred,
        recorded_at=recorded,
    )
    assert assembled == expected


def test_timestamps_are_utc_with_microseconds_when_given_another_zone():
    from datetime import timezone

    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp_text(moment) == "2026-03-01T10:00:00.000000Z"


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")))
def test_memoised_name_bytes_equal_canonical_json_of_the_name(name):
    from eventstore import hashing

    assert hashing._name_json(name) == canonical_json(name)
    assert hashing._name_json(name) == canonical_json(name)  # the second answer is cached
