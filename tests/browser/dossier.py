"""A high-tier version whose approval request reads like a real one: named reviewers, evidence
documents of every shape (a PDF, Markdown carrying a script, an HTML page carrying a script,
CSV), a recorded bias audit, a decision voided by a revised document and given again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from approvals import commands as approvals
from governance import commands as governance
from governance.policy import required_evidence
from governance.queries import current_policy
from lineage import commands as lineage
from registry import commands as registry
from registry.commands import DatasetVersionInput
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    approve,
    audit_attached_data,
    evaluation_csv,
    model_card,
    registered_version,
    upload,
)

NAMES = {
    "olivia-owner": ("Olivia", "Okafor"),
    "rosa-risk": ("Rosa", "Riedel"),
    "raj-risk": ("Raj", "Rao"),
    "rin-risk": ("Rin", "Ryu"),
    "lena-legal": ("Lena", "Lindqvist"),
    "eli-ethics": ("Eli", "Ekström"),
    "emma-ethics": ("Emma", "Esposito"),
}
SCRIPT = b"<script>alert('evidence ran script')</script>"


def pdf(text: str) -> bytes:
    """A one-page PDF showing `text` (objects and cross-reference table written out)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


DOCUMENTS = {
    "validation_report": ("validation-report.pdf", pdf("Validation report: AUC 0.91 on holdout")),
    "dpia": (
        "dpia.md",
        b"# Data protection impact assessment\n\nLawful basis: **contract**.\n\n"
        + SCRIPT
        + b"\n\n| risk | mitigation |\n|---|---|\n| re-identification | k-anonymity |\n",
    ),
    "explainability_report": ("explainability.html", b"<html><body>" + SCRIPT + b"</body></html>"),
    "bias_audit": ("bias-audit.csv", b"group,selection_rate,n\nfemale,0.41,480\nmale,0.44,520\n"),
    "model_card": ("model-card.md", b"# Credit limit scorer\n\nSee the structured card."),
}


@dataclass
class Dossier:
    model: Any
    version: Any
    request: Any
    documents: dict[str, Any]


def attach(cast, store, version, kind: str, filename: str, body: bytes, summary=None) -> None:
    document = upload(store, version, kind, body, filename)
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=version.model_id,
        number=1,
        kind=kind,
        summary=summary or {"verdict": "pass"},
        **document,
    )


def reviewed_request(cast, store, name: str = "credit-limit-scorer") -> Dossier:
    """Legal still to decide; one model-risk approval was voided by a revised DPIA and given
    again, ethics approved."""
    for user in [cast.owner, *(m for ms in cast.members.values() for m in ms)]:
        user.first_name, user.last_name = NAMES.get(user.username, ("", ""))
        user.save()
    owner = actor_of(cast.owner)
    model, version = registered_version(cast.owner, name)
    governance.record_intake(actor=owner, model_id=model.id, answers=INTAKE["high"])
    governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id)
    needed = required_evidence(current_policy().tiers["high"], personal_data=True)
    for kind in needed:
        filename, body = DOCUMENTS[kind]
        attach(
            cast,
            store,
            version,
            kind,
            filename,
            body,
            model_card(name, 1) if kind == "model_card" else None,
        )
    for dataset, edge in (
        ("credit-applications-2026q3", "trained_on"),
        ("holdout-2026q3", "evaluated_on"),
    ):
        data = registry.register_dataset(actor=owner, name=f"{name}-{dataset}", team="fraud-ml")
        registry.create_dataset_version(
            actor=owner, dataset_id=data.id, data=DatasetVersionInput(uri=f"s3://lake/{dataset}/1")
        )
        lineage.record_edge(
            actor=owner,
            source=f"dataset:{name}-{dataset}@1",
            target=f"model:{name}@1",
            edge_type=edge,
        )
    # The ledger's own audit of the attached evaluation data, which the gate counts.
    audit_attached_data(cast, store, model, version, evaluation_csv(0.62, 0.55, n=120))
    request = approvals.request_approval(
        actor=owner,
        model_id=model.id,
        number=1,
        notes=("Quarterly refresh: retrained on 2026 Q3 applications."),
    )
    approve(cast, request.id, "model-risk", 0, rationale="validation holds on the holdout")
    approve(cast, request.id, "ethics", 0, rationale="selection rates within four fifths")
    # The owners revise the DPIA: the decisions given so far are voided.
    filename, body = DOCUMENTS["dpia"]
    attach(cast, store, version, "dpia", filename, body + b"\nRetention: 24 months.\n")
    approve(cast, request.id, "model-risk", 0, rationale="revised DPIA read; still fine")
    approve(cast, request.id, "model-risk", 1, rationale="independent re-run of validation")
    approve(cast, request.id, "ethics", 1, rationale="no disparate impact found")
    documents = {kind: hashlib.sha256(DOCUMENTS[kind][1]).hexdigest() for kind in needed}
    return Dossier(model, version, request, documents)
