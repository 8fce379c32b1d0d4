"""Every lineage event type is registered with a schema version and round-trips through the
log unchanged (appended to its own stream type, read back, decoded)."""

import uuid

import pytest

from eventstore import catalog, store
from eventstore.types import NO_STREAM, StreamRef
from lineage import events as ev

pytestmark = pytest.mark.django_db

SAMPLES = [
    (
        ev.EDGE,
        ev.EdgeRecorded(
            source="dataset:s3://lake/t@1",
            source_id=str(uuid.uuid4()),
            target="model:fraud@2",
            target_id=str(uuid.uuid4()),
            edge_type="trained_on",
            origin="api",
            run_id="",
        ),
    ),
    (
        ev.RUN,
        ev.RunEventReceived(
            run_id="r-1",
            run_state="COMPLETE",
            event_time="2026-11-23T12:00:00Z",
            job_namespace="spark",
            job_name="etl",
            producer="p",
            inputs=["dataset:s3://lake/a"],
            outputs=["dataset:s3://lake/b@1"],
            facets={"nominalTime": {"nominalStartTime": "2026-11-23T00:00:00Z"}},
        ),
    ),
    (
        ev.EXPORT,
        ev.ExportStarted(
            kind="audit-bundle",
            format="zip",
            subject="model:fraud",
            parameters={"model": ["fraud"]},
        ),
    ),
    (ev.EXPORT, ev.ExportCompleted(sha256="ab" * 32, bytes=1234, events=17)),
    (ev.RUN, ev.RunClaimed(run_id="etl-1", team_id=7, team="fraud-ml")),
]


@pytest.mark.parametrize(("stream_type", "event"), SAMPLES, ids=lambda x: type(x).__name__)
def test_lineage_event_round_trips_through_the_log(stream_type, event, meta):
    stream = StreamRef(uuid.uuid4(), stream_type)
    store.append(stream, NO_STREAM, [event], meta)
    (recorded,) = store.read_stream(stream.id)
    assert recorded.type == event.event_type and recorded.schema_version == 1
    assert catalog.decode(recorded) == event


def test_every_lineage_event_type_is_registered():
    registered = {t for t in catalog.registered_types() if t.startswith("lineage.")}
    assert registered == {type(event).event_type for _, event in SAMPLES}
