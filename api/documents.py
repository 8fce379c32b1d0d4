"""Evidence documents for reviewers, outside the admin's path: /evidence/<id>/<sha256>/ serves
the bytes and /evidence/<id>/<sha256>/preview/ shows Markdown (sanitised), CSV and text.

Who: a staff member signed in to the admin, or an API token; and, for the object, the same
predicate as the API's evidence reads (approvals.queries.party_to). A document is shown only
after its stored bytes were re-hashed against the recorded SHA-256; other bytes are refused
(409, `evidence_document_mismatch`) and never served.

How: the browser never renders a document as a page of the ledger's origin. PDF and raster
images are `inline`; everything else, HTML and SVG included, is an `attachment` of type
application/octet-stream. Every response carries a sandboxing Content-Security-Policy (no
script, no requests, the document in a unique origin), `X-Content-Type-Options: nosniff` and
no caching by shared caches."""

from __future__ import annotations

import csv
import io
import logging
import uuid

import nh3
from django.http import FileResponse, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from markdown_it import MarkdownIt
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from api.errors import problem
from approvals.queries import party_to
from governance import documents
from governance.models import Evidence

log = logging.getLogger(__name__)

# Every document runs in a unique (opaque) origin: it can read nothing of the ledger's. Images
# and downloads need no script at all; a browser's built-in PDF viewer is an extension page
# that runs script of its own, so PDFs keep `allow-scripts`, still in the opaque origin (a bare
# `sandbox` leaves Chromium's viewer blank; tests/browser/test_dossier.py loads it).
DOCUMENT_CSP = "sandbox; default-src 'none'; img-src 'self' data:"
PDF_CSP = (
    "sandbox allow-scripts allow-downloads; default-src 'none'; object-src 'self';"
    " img-src 'self' data: blob:; style-src 'unsafe-inline'"
)
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MISMATCH = "evidence_document_mismatch"
# commonmark without raw HTML; nh3 then keeps only harmless tags and attributes.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _secured(response: HttpResponse, csp: str) -> HttpResponse:
    response["Content-Security-Policy"] = csp
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


class _EvidenceDocument(APIView):
    throttle_scope = None

    def _evidence(self, request: Request, evidence_id: str, sha256: str) -> Evidence:
        if isinstance(request.successful_authenticator, SessionAuthentication) and not (
            request.user.is_staff
        ):
            raise PermissionDenied("evidence documents are for staff signed in to the admin")
        try:
            evidence_uuid = uuid.UUID(evidence_id)
        except ValueError:
            raise NotFound("no such evidence document") from None
        evidence = Evidence.objects.filter(id=evidence_uuid, sha256=sha256, waived=False).first()
        # The same answer for "no such document" and "not yours": nothing tells them apart.
        if evidence is None or not party_to(request.user, evidence.model_id):
            raise NotFound("no such evidence document")
        return evidence

    def _refused(self, request: Request, exc: documents.DocumentMismatch) -> HttpResponse:
        log.warning("evidence document mismatch: %s", exc)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            page = render_to_string("evidence/mismatch.html", {"problem": exc})
            return _secured(HttpResponse(page, status=409), PREVIEW_CSP)
        return problem(
            409,
            MISMATCH,
            "The stored document does not match its record",
            str(exc),
            recorded_sha256=exc.evidence.sha256,
            found_sha256=exc.found_sha256 or None,
        )


@extend_schema(exclude=True)
class EvidenceDocumentView(_EvidenceDocument):
    def get(self, request: Request, evidence_id: str, sha256: str) -> HttpResponse:
        evidence = self._evidence(request, evidence_id, sha256)
        try:
            body = documents.read_verified(evidence)
        except documents.DocumentMismatch as exc:
            return self._refused(request, exc)
        shape = documents.shape_of(evidence)
        response = FileResponse(
            body,
            as_attachment=not shape.inline,
            filename=shape.filename,
            content_type=shape.content_type,
        )
        response["Content-Length"] = str(evidence.size)
        return _secured(
            response, PDF_CSP if shape.content_type == "application/pdf" else DOCUMENT_CSP
        )


@extend_schema(exclude=True)
class EvidencePreviewView(_EvidenceDocument):
    def get(self, request: Request, evidence_id: str, sha256: str) -> HttpResponse:
        evidence = self._evidence(request, evidence_id, sha256)
        shape = documents.shape_of(evidence)
        if shape.show not in ("markdown", "csv", "text"):
            raise NotFound("this document has no preview; open it instead")
        try:
            with documents.read_verified(evidence) as body:
                text = body.read().decode("utf-8", errors="replace")
        except documents.DocumentMismatch as exc:
            return self._refused(request, exc)
        context = {
            "evidence": evidence,
            "shape": shape,
            "raw": reverse_raw(evidence),
        }
        if shape.show == "markdown":
            context["html"] = nh3.clean(MARKDOWN.render(text), link_rel="noopener noreferrer")
        elif shape.show == "csv":
            rows = list(csv.reader(io.StringIO(text)))
            context["rows"] = rows[: documents.CSV_PREVIEW_ROWS + 1]
            context["more_rows"] = max(0, len(rows) - documents.CSV_PREVIEW_ROWS - 1)
        else:
            context["text"] = text
        page = render_to_string("evidence/preview.html", context)
        return _secured(HttpResponse(page, content_type="text/html; charset=utf-8"), PREVIEW_CSP)


def reverse_raw(evidence: Evidence) -> str:
    return reverse("evidence-document", args=[evidence.id, evidence.sha256])
