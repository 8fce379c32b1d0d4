"""The PROV-JSON export is valid PROV-JSON: checked against the schema in tests/fixtures, which
is the W3C PROV-JSON submission's structure written down as JSON Schema."""

import json
from pathlib import Path

import jsonschema_rs
import pytest

from lineage import commands
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "prov-json.schema.json").read_text()
)


@pytest.fixture
def validator():
    return jsonschema_rs.Draft7Validator(SCHEMA, validate_formats=True)


def test_prov_export_of_a_mixed_graph_is_valid_prov_json(ledger, auditor, validator):
    (raw,) = ledger.dataset("s3://lake/raw")
    (clean,) = ledger.dataset("s3://lake/clean")
    base, tuned = ledger.model("fraud", 2, training_datasets=("s3://lake/clean@1",))
    record = commands.record_edge
    record(actor=ledger.actor, source=raw, target="run:etl-1", edge_type="consumed")
    record(actor=ledger.actor, source="run:etl-1", target=clean, edge_type="produced")
    record(actor=ledger.actor, source=raw, target=clean, edge_type="derived_from")
    record(actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from")
    response = client_for(auditor).get(
        "/api/v1/exports/lineage/", {"node": tuned, "format": "prov", "direction": "upstream"}
    )
    assert response.status_code == 200
    document = json.loads(b"".join(response.streaming_content))
    errors = [str(e) for e in validator.iter_errors(document)]
    assert errors == []
    assert set(document["activity"]) == {"ledger:run:etl-1"}
    assert {"ledger:" + k for k in (raw, clean, base, tuned)} == set(document["entity"])
    assert len(document["used"]) == 1 and len(document["wasGeneratedBy"]) == 1
    kinds = {r["prov:type"]["$"] for r in document["wasDerivedFrom"].values()}
    assert kinds == {"ledger:derived_from", "ledger:trained_on", "ledger:fine_tuned_from"}


def test_the_schema_refuses_what_prov_json_forbids(validator):
    assert not validator.is_valid({"wasGeneratedBy": {"_:g": {"prov:activity": "ex:a"}}})
    assert not validator.is_valid({"entity": {"ex:e": {"ex:x": {"type": "xsd:int"}}}})
    assert not validator.is_valid({"prefix": {"ex": "http://example.org/"}, "edges": {}})
    assert validator.is_valid(
        {"prefix": {"ex": "http://example.org/"}, "entity": {"ex:e": {"prov:label": "e"}}}
    )
