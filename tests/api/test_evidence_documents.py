"""Evidence documents for reviewers (/evidence/<id>/<sha256>/): who may read them, the headers
that keep a document from acting in the ledger's origin, the sanitised preview, and the refusal
of bytes that no longer match their record. The admin shows times in each reader's zone."""

from __future__ import annotations

import hashlib
import re

from django.test import Client

from eventstore.models import Event
from governance.models import Evidence, Finding
from tests.api.conftest import client_for
from tests.approvals.conftest import cast, evidence_store  # noqa: F401
from tests.browser.dossier import reviewed_request
from tests.conftest import make_user
from tests.helpers.admin import staff_client, submit_form


def _url(row: Evidence, preview: bool = False) -> str:
    return f"/evidence/{row.id}/{row.sha256}/" + ("preview/" if preview else "")


def _row(dossier, kind: str) -> Evidence:
    return Evidence.objects.get(version_id=dossier.version.id, kind=kind)


def _sandboxed(response) -> None:
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_documents_open_inline_only_as_pdf_or_image_and_always_sandboxed(
    cast,  # noqa: F811
    evidence_store,  # noqa: F811
):
    dossier = reviewed_request(cast, evidence_store, "served-model")
    lena = staff_client(cast.reviewer("legal"))
    pdf = lena.get(_url(_row(dossier, "validation_report")))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('inline; filename="validation-report.pdf"')
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-1.4")
    _sandboxed(pdf)
    html = lena.get(_url(_row(dossier, "explainability_report")))
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"].startswith("attachment")
    _sandboxed(html)

    preview = lena.get(_url(_row(dossier, "dpia"), preview=True))
    assert preview.status_code == 200
    _sandboxed(preview)
    body = preview.content.decode()
    assert "<h1>Data protection impact assessment</h1>" in body
    assert "<strong>contract</strong>" in body and "<table>" in body
    assert not re.search(r"<script", body, re.I)  # shown as text, never as a tag
    csv = lena.get(_url(_row(dossier, "bias_audit"), preview=True))
    assert "<th>selection_rate</th>" in csv.content.decode()
    # A PDF has no preview; a wrong digest or id is no document.
    assert lena.get(_url(_row(dossier, "validation_report"), preview=True)).status_code == 404
    row = _row(dossier, "dpia")
    assert lena.get(f"/evidence/{row.id}/{'0' * 64}/").status_code == 404
    assert lena.get(f"/evidence/{'-' * 36}/{row.sha256}/").status_code == 404


def test_only_parties_to_the_model_read_its_documents(cast, evidence_store):  # noqa: F811
    dossier = reviewed_request(cast, evidence_store, "private-model")
    url = _url(_row(dossier, "validation_report"))
    assert Client().get(url).status_code in (401, 403)
    stranger = make_user("stan-stranger")
    assert staff_client(stranger).get(url).status_code == 404
    not_staff = Client()
    not_staff.force_login(cast.reviewer("legal"))
    assert not_staff.get(url).status_code == 403  # a session, but not the admin's staff
    assert client_for(cast.owner).get(url).status_code == 200  # the owners' API token
    assert client_for(stranger).get(url).status_code == 404


def test_a_document_whose_bytes_changed_is_refused_and_flagged(cast, evidence_store):  # noqa: F811
    dossier = reviewed_request(cast, evidence_store, "forged-model")
    row = _row(dossier, "dpia")
    path = evidence_store._path(row.artifact_key)
    path.chmod(0o600)
    path.write_bytes(b"# a forged assessment")
    refused = client_for(cast.owner).get(_url(row))
    assert refused.status_code == 409
    assert refused.json()["code"] == "evidence_document_mismatch"
    assert refused.json()["recorded_sha256"] == row.sha256
    lena = staff_client(cast.reviewer("legal"))
    page = lena.get(_url(row, preview=True))
    assert page.status_code == 409 and b"forged" not in page.content
    assert b"was not served" in page.content
    dossier_page = lena.get(f"/admin/approvals/approvalrequest/{dossier.request.id}/change/")
    assert b"stored bytes do not match the recorded SHA-256" in dossier_page.content
    assert not Finding.objects.filter(source="evidence_tampered").exists()  # a GET records nothing

    # The reviewer reports it: the server re-hashes and records the tampering once, through
    # the path the bias audits use, and a finding opens.
    report = f"/admin/approvals/approvalrequest/{dossier.request.id}/evidence/{row.id}/mismatch/"
    for _ in range(2):
        done = submit_form(lena, report, {})
        assert done.status_code == 302, done.content
    detected = Event.objects.filter(type="governance.EvidenceTamperDetected")
    assert detected.count() == 1
    assert (
        detected.get().data["found_sha256"] == hashlib.sha256(b"# a forged assessment").hexdigest()
    )
    finding = Finding.objects.get(source="evidence_tampered", model_id=dossier.model.id)
    assert finding.status == "open" and "dpia" in finding.title


def test_the_admin_shows_times_in_the_readers_own_zone(cast, evidence_store):  # noqa: F811
    dossier = reviewed_request(cast, evidence_store, "zoned-model")
    page = f"/admin/approvals/approvalrequest/{dossier.request.id}/change/"
    lena, raj = cast.reviewer("legal"), cast.reviewer("model-risk", 1)
    assert b" UTC</span>" in staff_client(lena).get(page).content  # the server's TIME_ZONE
    client = staff_client(lena)
    chosen = client.post(
        "/admin/registry/userpreferences/add/", {"time_zone": "Asia/Tokyo"}, follow=True
    )
    assert chosen.status_code == 200
    shown = client.get(page).content.decode()
    assert " JST" in shown and not re.search(r"\d:\d{2}:\d{2}\.\d{6}", shown)
    assert b" JST" not in staff_client(raj).get(page).content
    # Nobody reads or changes another's preferences.
    mine = client.get("/admin/registry/userpreferences/").content
    others = staff_client(raj).get("/admin/registry/userpreferences/").content
    assert b"Asia/Tokyo" in mine and b"Asia/Tokyo" not in others
