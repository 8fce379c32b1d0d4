"""manage.py verify_ledger: exit 0 only when every chain, stream head and checkpoint holds."""

from django.core.management.base import BaseCommand, CommandError

from eventstore.verify import verify


class Command(BaseCommand):
    help = "Verify every stream's hash chain, the stream heads and every signed checkpoint."

    def handle(self, *args, **options):
        report = verify()
        summary = (
            f"{report.events} events in {report.streams} streams, {report.leaves} leaves,"
            f" {report.checkpoints} checkpoints"
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"ledger verified: {summary}"))
            return
        for problem in sorted(report.problems)[:20]:
            self.stderr.write(f"  {problem.message}")
        raise CommandError(
            f"ledger verification FAILED ({len(report.problems)} problems; {summary}). "
            f"First: {report.first_problem}"
        )
