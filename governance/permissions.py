"""Who is independent of a model or a version, as of now (separation of duties): the parties
boards.rules.Parties keeps apart, with the streams their authors wrote to named here, where the
evidence and risk streams are known. Judged at each decision and again by the promotion gate,
against current memberships: a group change that records no event counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from boards import queries as board_queries
from boards.rules import TIER_AUTHORING, VERSION_AUTHORING, Parties
from governance.streams import evidence_stream_id, risk_stream_id


def version_parties(
    model_id: str | uuid.UUID, version_id: str | uuid.UUID, *, requesters: Iterable[int] = ()
) -> Parties:
    """Not independent of a version: the requesters of its approvals (and `requesters`), the
    model's owners, and whoever wrote the version, its artifact or its evidence."""
    return board_queries.parties(
        model_id,
        author_streams=(version_id, evidence_stream_id(version_id)),
        requesters=(*requesters, *board_queries.requester_ids([version_id])),
    )


def model_parties(model_id: str | uuid.UUID, version_ids: Iterable[str]) -> Parties:
    """Not independent of a model (its tier, its suspension): its owners, the authors of any of
    its versions (`version_ids`) and of its intake answers, and the requesters of any of its
    versions' approvals."""
    versions = list(version_ids)
    streams: list[str | uuid.UUID] = [risk_stream_id(model_id)]
    for version_id in versions:
        streams += [version_id, evidence_stream_id(version_id)]
    return board_queries.parties(
        model_id,
        author_streams=streams,
        author_types=(*VERSION_AUTHORING, *TIER_AUTHORING),
        requesters=board_queries.requester_ids(versions),
    )
