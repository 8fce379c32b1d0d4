"""Evidence documents read back: the store's bytes against the recorded SHA-256, and how each
kind of file is offered."""

from __future__ import annotations

import pytest

from governance import documents
from governance.models import Evidence
from tests.approvals.conftest import governed_version


@pytest.fixture
def dpia(cast, evidence_store):
    _, version = governed_version(cast, evidence_store, "high", "documents-model")
    return Evidence.objects.get(version_id=version.id, kind="dpia")


def test_a_document_is_read_back_only_while_its_bytes_match(dpia, evidence_store):
    assert documents.intact(dpia) is True
    with documents.read_verified(dpia) as body:
        assert body.read() == b"dpia of documents-model"
    path = evidence_store._path(dpia.artifact_key)
    path.chmod(0o600)
    path.write_bytes(b"dpia of documents-mode!")  # same size, other bytes
    assert documents.intact(dpia) is False
    with pytest.raises(documents.DocumentMismatch) as refused:
        documents.read_verified(dpia)
    assert refused.value.found_sha256 and refused.value.found_sha256 != dpia.sha256
    path.unlink()
    assert documents.intact(dpia) is False
    with pytest.raises(documents.DocumentMismatch):
        documents.read_verified(dpia)


def test_a_large_document_is_checked_when_opened_not_on_every_page(dpia, monkeypatch):
    monkeypatch.setattr(documents, "PAGE_REHASH_BYTES", 4)
    assert documents.intact(dpia) is None
    with documents.read_verified(dpia) as body:
        assert body.read() == b"dpia of documents-model"


def test_only_pdf_and_raster_images_are_shown_inline(dpia):
    shapes = {
        name: documents.shape_of(Evidence(kind="dpia", artifact_key=f"e/1/x/dpia.{name}", size=9))
        for name in ("a.pdf", "b.PNG", "c.svg", "d.html", "e.md", "f.csv", "g.docx")
    }
    assert {n for n, s in shapes.items() if s.inline} == {"a.pdf", "b.PNG"}
    assert shapes["c.svg"].show == "download" and shapes["d.html"].show == "download"
    assert shapes["c.svg"].content_type == "application/octet-stream"
    assert (shapes["e.md"].show, shapes["f.csv"].show) == ("markdown", "csv")
    big = Evidence(kind="dpia", artifact_key="e/1/x/dpia.e.md", size=documents.PREVIEW_BYTES + 1)
    assert documents.shape_of(big).show == "download"
