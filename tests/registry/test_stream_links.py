"""Every stream opened elsewhere about a model or a version is named on that model's or
version's own stream (registry.StreamLinked), once, by the registry's subscriber."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from django.db import transaction

from eventstore import store
from eventstore.models import Event
from governance.commands import audits
from governance.streams import evidence_stream_id, risk_stream_id
from lineage import commands as lineage
from registry import policies
from registry.streams import load_model, load_version, version_stream_id
from tests.approvals.conftest import actor_of, cast, evidence_store, registered_version  # noqa: F401
from tests.governance.helpers import SPEC, approved_version, report, rows

pytestmark = pytest.mark.django_db


def _links() -> dict[str, list[tuple[str, str]]]:
    """Linked stream id -> [(subject stream id, kind)] over the whole log."""
    found: dict[str, list[tuple[str, str]]] = {}
    for e in Event.objects.filter(type="registry.StreamLinked").order_by("position"):
        found.setdefault(e.data["stream_id"], []).append((str(e.stream_id), e.data["kind"]))
    return found


def test_each_opened_stream_is_linked_once_on_its_subject(cast, evidence_store):  # noqa: F811
    model, version, request = approved_version(cast, evidence_store, "high", audited=False)
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    model_wide = report(cast, model)
    about_version = report(cast, model, version_number=1, title="limits zeroed for one segment")
    links = _links()

    expected = {
        str(risk_stream_id(model.id)): [(model.id, "risk")],
        str(evidence_stream_id(version.id)): [(version.id, "evidence")],
        str(request.id): [(version.id, "approval_request")],
        str(outcome.audit.id): [(version.id, "bias_audit")],
        outcome.finding_id: [(version.id, "finding")],
        str(model_wide.id): [(model.id, "incident")],
        str(about_version.id): [(version.id, "incident")],
    }
    assert {k: links.get(k) for k in expected} == expected
    # The folds keep them in link order.
    assert set(load_model(model.id).linked_streams) == {
        str(risk_stream_id(model.id)),
        str(model_wide.id),
    }
    assert load_version(version.id).linked_streams == (
        str(evidence_stream_id(version.id)),
        str(request.id),
        str(outcome.audit.id),
        outcome.finding_id,
        str(about_version.id),
    )


def test_a_later_event_of_an_opened_stream_links_nothing(cast, evidence_store):  # noqa: F811
    model, version, request = approved_version(cast, evidence_store, "high")
    # Five evidence documents, four board decisions and a grant: one link each stream.
    counts = Counter(stream for stream in _links())
    assert counts[str(evidence_stream_id(version.id))] == 1
    assert counts[str(request.id)] == 1
    assert counts[str(risk_stream_id(model.id))] == 1


def test_reacting_again_to_an_opening_event_links_nothing_more(cast, evidence_store):  # noqa: F811
    _, version, request = approved_version(cast, evidence_store, "high")
    opening = store.read_stream(request.id)[0]
    count = Event.objects.count()
    with transaction.atomic():
        results = store.react([opening])
    assert results and all(result.replayed for result in results)
    assert Event.objects.count() == count
    # Called directly, the subscriber asks again, and the store's key (cause, subscriber,
    # target stream) turns it into a replay.
    (again,) = policies.link_opened_stream(opening)
    assert again.stream.id == uuid.UUID(version.id)


def test_another_teams_lineage_edge_writes_nothing_on_a_models_version(cast):  # noqa: F811
    """Lineage edges are lineage's record (found through its own tables), not a stream opened
    about a version: an edge another team draws from a model version (read rights suffice for a
    source) into its own run or its own model must not append to that version's stream."""
    from django.contrib.auth.models import Group

    from registry import commands as registry
    from registry.commands import VersionInput
    from tests.conftest import make_user

    victim, _ = registered_version(cast.owner, "links-victim")
    victim_stream = version_stream_id(victim.id, 1)
    before = load_version(victim_stream).stream_version
    other = make_user("mallory-links", Group.objects.create(name="other-team"))
    mallory = actor_of(other)
    registry.choose_default_team(actor=mallory, user_id=other.pk, team="other-team")
    theirs = registry.register_model(actor=mallory, name="links-theirs", team="other-team")
    registry.create_model_version(actor=mallory, model_id=theirs.id, data=VersionInput())
    lineage.record_edge(
        actor=mallory, source=f"model:{victim.name}@1", target="run:mallory-1", edge_type="consumed"
    )
    lineage.record_edge(
        actor=mallory,
        source=f"model:{victim.name}@1",
        target=f"model:{theirs.name}@1",
        edge_type="fine_tuned_from",
    )
    assert load_version(victim_stream).stream_version == before
    assert not Event.objects.filter(stream_id=victim_stream, version__gt=before).exists()


def test_streams_opened_before_links_existed_are_linked_once_by_link_streams(
    cast,  # noqa: F811
    evidence_store,  # noqa: F811
):
    """A ledger from before StreamLinked: streams about a version opened with no link. The
    catch-up links each of them once; run again, it links nothing."""
    from django.core.management import call_command

    from eventstore import subscribers

    kinds = list(policies.STREAM_KINDS)
    for kind in kinds:
        subscribers._subscribers[kind].remove(policies.link_opened_stream)
    try:
        model, version, request = approved_version(cast, evidence_store, "high")
    finally:
        for kind in kinds:
            subscribers._subscribers[kind].append(policies.link_opened_stream)
    assert str(request.id) not in _links()
    assert call_command("link_streams") is None
    links = _links()
    assert links[str(request.id)] == [(version.id, "approval_request")]
    assert links[str(evidence_stream_id(version.id))] == [(version.id, "evidence")]
    assert links[str(risk_stream_id(model.id))] == [(model.id, "risk")]
    assert str(request.id) in load_version(version.id).linked_streams
    assert policies.link_unlinked_streams() == 0
    assert _links() == links
    # Streams linked when they were opened are not linked a second time.
    _later, _, later_request = approved_version(cast, evidence_store, "high")
    assert policies.link_unlinked_streams() == 0
    assert len(_links()[str(later_request.id)]) == 1
