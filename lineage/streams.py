"""Lineage loaders: the id of the stream a lineage node stands for (a model version, a dataset
or dataset version, a run). Nothing here writes."""

from __future__ import annotations

import uuid

from lineage import rules
from lineage.errors import NodeNotFound
from registry.errors import DatasetNotFound, ModelNotFound
from registry.queries import dataset_id_for, model_id_for
from registry.streams import dataset_version_stream_id, version_stream_id


def node_id(ref: rules.NodeRef) -> uuid.UUID:
    """The id of the stream a node stands for (runs: derived from the run id)."""
    try:
        if ref.kind == rules.MODEL:
            return version_stream_id(model_id_for(ref.name), ref.number or 0)
        if ref.kind == rules.DATASET:
            return dataset_id_for(ref.name)
        if ref.kind == rules.DATASET_VERSION:
            return dataset_version_stream_id(dataset_id_for(ref.name), ref.number or 0)
    except (ModelNotFound, DatasetNotFound) as exc:
        raise NodeNotFound(f"no node {ref.key}: {exc.detail}") from exc
    return rules.run_node_id(ref.name)
