"""manage.py write_governance_docs: render docs/governance-policy.md, docs/intake-questions.md
and docs/model-card.md from the shipped policy data (governance/management/policy_docs.py);
with --check, exit 1 where a committed file differs from what the data renders."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.management.policy_docs import documents
from governance.policy import default_tiers


class Command(BaseCommand):
    help = "Write the governance documents under docs/ from the policy data (--check: compare)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare, write nothing")

    def handle(self, *args, **options):
        folder = Path(settings.BASE_DIR) / "docs"
        stale = []
        for name, text in documents(default_tiers()).items():
            path = folder / name
            current = path.read_text() if path.exists() else None
            if current == text:
                continue
            stale.append(name)
            if not options["check"]:
                path.write_text(text)
                self.stdout.write(f"wrote docs/{name}")
        if options["check"] and stale:
            raise CommandError(
                f"out of date: {', '.join(stale)}; run ./ledger manage write_governance_docs",
                returncode=1,
            )
        if not stale:
            self.stdout.write("the governance documents are up to date")
