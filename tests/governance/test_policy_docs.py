"""docs/ holds what a newcomer and a reviewer need, and it cannot drift from the product: the
policy, intake and model-card documents are what the seeded policy data renders, every example
in them and in the bias-audit spec and the setup guide is accepted by the code that reads such
input, and the product cites these documents, not ones it does not ship."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from governance import queries as governance_queries
from governance.fairness import spec_with_thresholds
from governance.management.policy_docs import documents, example_model_card
from governance.management.setup import parse
from governance.policy import DEFAULT_TIERS, check_answers
from governance.rules import check_summary

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def blocks(name: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / name).read_text(), re.S)


@pytest.mark.django_db
def test_the_committed_documents_are_what_the_seeded_policy_renders():
    seeded = governance_queries.current_policy()
    assert seeded.number == 1  # as the migrations leave it
    for name, text in documents(seeded.tiers).items():
        assert (DOCS / name).read_text() == text, (
            f"docs/{name} is out of date: ./ledger manage write_governance_docs"
        )


def test_the_check_command_agrees():
    call_command("write_governance_docs", "--check")


def test_the_documents_examples_are_accepted_as_input():
    (intake,) = blocks("intake-questions.md", "json")
    check_answers(json.loads(intake)["answers"])
    (card,) = blocks("model-card.md", "json")
    assert json.loads(card)["summary"] == example_model_card()
    check_summary("model_card", json.loads(card)["summary"])
    specs = blocks("bias-audit-spec.md", "json")
    assert len(specs) == 3
    for spec in specs:
        spec_with_thresholds(json.loads(spec), DEFAULT_TIERS["high"]["fairness_thresholds"])
    (request,) = blocks("bias-audit-spec.md", "sh")
    body = json.loads(request.split("-d '", 1)[1].rsplit("'", 1)[0])
    spec_with_thresholds(body["spec"], DEFAULT_TIERS["high"]["fairness_thresholds"])


@pytest.mark.django_db
def test_the_setup_guides_example_is_a_valid_setup():
    sh, example = blocks("setup-governance.md", "(?:sh|yaml)")
    assert "setup_governance FILE --as ADMIN" in sh
    setup = parse(yaml.safe_load(example))
    assert setup.boards["model-risk"]["chair"] == "rosa"


SCREENSHOTS = {
    "board-member-queue.png",
    "approval-dossier.png",
    "risk-officer-tiering.png",
    "chair-waivers.png",
    "findings.png",
    "auditor-exports.png",
}


def test_the_reviewers_guide_shows_each_roles_workspace_and_links_only_what_is_shipped():
    guide = (DOCS / "reviewers-guide.md").read_text()
    assert set(re.findall(r"\(screenshots/([\w-]+\.png)\)", guide)) == SCREENSHOTS
    for document in [ROOT / "README.md", *DOCS.glob("*.md")]:
        base = ROOT if document.name == "README.md" else DOCS
        for target in re.findall(r"\]\(((?:docs/)?[\w-]+\.md)\)", document.read_text()):
            assert (base / target).exists(), f"{document.name} links {target}"


def test_the_product_cites_the_documents_it_ships():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    citing = [
        path
        for path in tracked
        if not path.startswith("tests/")
        and Path(ROOT / path).is_file()
        and path.endswith((".py", ".md", ".html", ".json", ".txt"))
        and re.search(r"\b(GOVERNANCE|DESIGN|STYLE)\.md\b", (ROOT / path).read_text())
    ]
    assert citing == []
