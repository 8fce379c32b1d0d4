"""Each governance role's workspace in a real Chromium, on the demo of `./ledger serve --demo`:
the board member decides from the queue and finds the request back for a re-review after its
evidence changed; the risk officer confirms a tier, and a submit from a page that went stale is
refused with what changed; the model-risk chair waives missing evidence; a board member closes a
finding with the evidence of the fix; the auditor downloads a model's audit bundle. Each page
is checked for what the person reads: names, not references, and no JSON.

One Chromium serves the whole module and people sign in by session cookie. With
LEDGER_SCREENSHOTS=docs/screenshots the pages are kept as the documentation's screenshots."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from approvals import commands as approvals
from approvals.models import ApprovalRequest
from approvals.streams import load_request
from core.actors import Actor
from eventstore import checkpoints
from eventstore.models import Event
from governance import commands as governance
from governance import queries as governance_queries
from governance.management import demo as demo_story
from governance.models import Evidence, Finding, ModelRisk
from governance.policy import required_evidence
from registry import commands as registry
from registry import streams as registry_streams
from registry.commands import VersionInput
from tests.approvals.conftest import upload, with_artifact
from tests.browser.pages import chromium
from tests.browser.sessions import keep, sign_in

REFERENCE = re.compile(
    r"\buser:\d+|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


@pytest.fixture(scope="module")
def shared_context():
    with pytest.MonkeyPatch.context() as patch:
        yield from chromium(patch)


@pytest.fixture
def context(shared_context):
    yield shared_context
    for page in shared_context.pages:
        page.close()


def _as(user) -> Actor:
    return Actor.user(user, auth_method="session")


def reads_as_words(text: str) -> None:
    """What a person reads: no JSON braces, no user or stream references."""
    assert "{" not in text and "}" not in text, text
    assert not REFERENCE.search(text), REFERENCE.search(text)


def _card(page, title: str):
    return page.locator("#workspaces a.ws-card", has_text=title)


def _revise_model_card(demo, evidence_store, model_name: str) -> None:
    """The owner attaches a new model card to version 1 (approvals' snapshot voids decisions)."""
    request = ApprovalRequest.objects.get(id=demo.requests[model_name])
    version = registry_streams.load_version(str(request.version_id))
    tier, purpose, _ = demo_story.MODELS[model_name]
    document = upload(evidence_store, version, "model_card", b"model card, limits rewritten")
    governance.attach_evidence(
        actor=_as(demo.users["ml_engineer"]),
        model_id=str(request.model_id),
        number=1,
        kind="model_card",
        summary=demo_story.model_card(model_name, tier, purpose),
        **document,
    )


def test_board_member_decides_from_the_queue_and_is_shown_a_re_review_after_a_void(
    live_server, context, demo, evidence_store
):
    lena = demo.users["legal"]
    page = sign_in(context, live_server, lena)
    page.goto(f"{live_server.url}/admin/")
    assert _card(page, "Waiting for my decision").locator(".ws-count").inner_text() == "1"
    _card(page, "Waiting for my decision").click()
    page.wait_for_url("**mine=pending**")
    row = page.locator("#result_list tbody tr", has_text="credit-scoring")
    text = row.inner_text()
    for shown in ("credit-scoring version 1", "HIGH", "Mia Moreau", "production"):
        assert shown in text, text
    assert "legal: 1 more of 1 approvals" in text and "NEW" in text.upper()
    reads_as_words(page.inner_text("#result_list"))

    row.locator("a.decide-button").click()
    page.click("a.decision-button:text('Approve')")
    page.fill("#id_rationale", "contracts and the data basis are in order")
    page.click("input[name=_record]")
    page.wait_for_selector("text=Decision recorded: approve.")

    # The owner replaces the model card: the decisions given on the old one are voided.
    _revise_model_card(demo, evidence_store, "credit-scoring")
    assert load_request(demo.requests["credit-scoring"]).void_reason
    page.goto(f"{live_server.url}/admin/approvals/approvalrequest/?mine=pending")
    row = page.locator("#result_list tbody tr", has_text="credit-scoring")
    text = row.inner_text()
    assert "RE-REVIEW" in text.upper()
    assert 'You decided "approve"' in text
    assert "the evidence changed after the request was made: model_card" in text
    reads_as_words(page.inner_text("#result_list"))
    keep(page, "board-member-queue.png")


def test_risk_officer_confirms_a_tier_and_a_stale_submit_is_refused_with_what_changed(
    live_server, context, demo
):
    otto = demo.users["risk_officer"]
    churn = demo.models["churn-forecast"]
    page = sign_in(context, live_server, otto)
    page.goto(f"{live_server.url}/admin/")
    _card(page, "Risk tiering").click()
    row = page.locator(f"#intake-{churn}")
    assert "churn-forecast" in row.inner_text()
    assert "forecast which customers will close their account" in row.inner_text()
    reads_as_words(page.inner_text("#intakes"))
    assert page.locator("#tier-history").inner_text().count("confirmed as proposed") >= 4
    reads_as_words(page.inner_text("#tier-history"))
    keep(page, "risk-officer-tiering.png")

    row.locator("a.confirm-tier").click()
    page.wait_for_selector("#id_tier")
    assert page.input_value("#id_tier") == "low"
    # Meanwhile the owner answers the intake again: the tier it proposes is now medium.
    governance.record_intake(
        actor=_as(demo.users["ml_engineer"]),
        model_id=churn,
        answers=demo_story.INTAKE["medium"],
    )
    before = Event.objects.count()
    page.click("input[name=_tier]")
    page.wait_for_selector("#stale-page")
    notice = page.inner_text("#stale-page")
    assert "Not recorded: this page changed after you opened it" in notice
    assert ("Intake recorded" in notice and "Mia Moreau" in notice) or "mia-ml" in notice
    assert Event.objects.count() == before
    # Sent again as it stands, "low" would override the new proposal without a reason.
    page.click("input[name=_tier]")
    page.wait_for_selector(".errornote, .errorlist")
    assert "overriding the proposed tier needs a reason" in page.inner_text("#content")
    assert Event.objects.count() == before
    page.select_option("#id_tier", "medium")
    page.click("input[name=_tier]")
    page.wait_for_selector("text=The tier of churn-forecast is medium.")
    assert ModelRisk.objects.get(model_id=churn).tier == "medium"
    assert page.locator(f"#intake-{churn}").count() == 0


def _under_review_without(demo, evidence_store, name: str, missing: str):
    """A medium-tier model whose version 1 is under review without one kind of evidence."""
    owner = _as(demo.users["ml_engineer"])
    model = registry.register_model(actor=owner, name=name, team=demo_story.TEAM)
    version = registry.create_model_version(actor=owner, model_id=model.id, data=VersionInput())
    version = with_artifact(demo.users["ml_engineer"], version, f"weights of {name}".encode())
    answers = demo_story.INTAKE["medium"]
    governance.record_intake(actor=owner, model_id=model.id, answers=answers)
    governance.assign_risk_tier(actor=_as(demo.users["risk_officer"]), model_id=model.id)
    spec = governance_queries.current_policy().tiers["medium"]
    for kind in required_evidence(spec, personal_data=answers["personal_data"]):
        if kind != missing:
            document = upload(evidence_store, version, kind, f"{kind} of {name}".encode())
            governance.attach_evidence(
                actor=owner,
                model_id=model.id,
                number=1,
                kind=kind,
                summary=demo_story.model_card(name, "medium", "prices offers")
                if kind == "model_card"
                else {"verdict": "pass"},
                **document,
            )
    approvals.request_approval(actor=owner, model_id=model.id, number=1)
    return model, version


def test_chair_waives_missing_evidence_with_a_reason_and_an_expiry(
    live_server, context, demo, evidence_store
):
    _, version = _under_review_without(demo, evidence_store, "offer-ranking", "bias_audit")
    rosa = demo.users["chair"]
    page = sign_in(context, live_server, rosa)
    page.goto(f"{live_server.url}/admin/")
    _card(page, "Waivers and suspensions").click()
    row = page.locator(f"#missing-{version.id}")
    assert "offer-ranking version 1" in row.inner_text()
    keep(page, "chair-waivers.png")
    row.locator("a.waive").click()
    page.wait_for_selector("#id_reason")
    assert page.input_value("#id_kind") == "bias_audit"
    page.fill("#id_reason", "the audit runs on next month's evaluation data")
    page.click("input[name=_waive]")
    page.wait_for_selector("text=Waiver of bias_audit granted")
    waiver = Evidence.objects.get(version_id=version.id, kind="bias_audit")
    assert waiver.waived and waiver.expires_at is not None
    assert page.locator(f"#missing-{version.id}").count() == 0
    waivers = page.inner_text("#waivers")
    assert "the audit runs on next month's evaluation data" in waivers
    assert "Rosa Rinaldi" in waivers
    suspensions = page.inner_text("#suspensions")
    assert "margins drifted outside the validated range" in suspensions
    reads_as_words(page.inner_text("#content-main"))


def test_a_board_member_independent_of_the_model_closes_a_finding_with_evidence(
    live_server, context, demo
):
    finding = Finding.objects.get(id=demo.finding_id)
    assert finding.boards == ["ethics"]
    owner_page = sign_in(context, live_server, demo.users["ml_engineer"])
    owner_page.goto(f"{live_server.url}/admin/governance/finding/mine/")
    # The model's owner reads the finding but is offered no closing of it.
    assert "credit-scoring" in owner_page.inner_text(f"#finding-{finding.id}")
    assert owner_page.locator(f"#finding-{finding.id} a.close-finding").count() == 0

    page = sign_in(context, live_server, demo.users["ethics"])
    page.goto(f"{live_server.url}/admin/")
    _card(page, "Findings").click()
    row = page.locator(f"#finding-{finding.id}")
    assert "HIGH" in row.inner_text().upper() and "credit-ml" in row.inner_text()
    reads_as_words(page.inner_text("#open-findings"))
    keep(page, "findings.png")
    row.locator("a.close-finding").click()
    page.fill("#id_resolution", "re-trained with reweighted samples; disparate impact now 0.91")
    page.fill("#id_evidence", "bias audit of credit-scoring version 2, recorded by the ledger")
    page.click("input[name=_close]")
    page.wait_for_selector("text=The finding is closed.")
    assert Finding.objects.get(id=finding.id).status == "closed"
    closed = page.inner_text("#closed-findings")
    assert "re-trained with reweighted samples" in closed and "Eli Eriksen" in closed


def test_auditor_downloads_a_models_audit_bundle_and_reads_the_key_to_pin(
    live_server, context, demo
):
    checkpoint = checkpoints.write_checkpoint()  # the signer's
    audrey = demo.users["auditor"]
    page = sign_in(context, live_server, audrey)
    page.goto(f"{live_server.url}/admin/")
    _card(page, "Audit exports").click()
    key = checkpoints.published_keys()[0].public_key
    assert page.inner_text("#public-key") == key
    assert f"{checkpoint.tree_size} events" in page.inner_text("#checkpoint")
    with page.expect_download() as download:
        page.locator("#model-credit-scoring a.download-bundle").click()
    bundle = download.value
    assert bundle.suggested_filename == "audit-bundle.zip"
    with zipfile.ZipFile(io.BytesIO(open(bundle.path(), "rb").read())) as archive:
        names = archive.namelist()
    assert "manifest.json" in names and "verify.py" in names
    page.reload()
    recent = page.inner_text("#recent-exports")
    assert "audit bundle" in recent and "Audrey Auber" in recent
    keep(page, "auditor-exports.png")
