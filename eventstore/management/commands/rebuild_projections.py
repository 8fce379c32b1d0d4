"""manage.py rebuild_projections: empty every projection table and replay the log into it."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from eventstore.projection import rebuild


class Command(BaseCommand):
    help = "Rebuild every projection table from the event log (in one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, batch_size, no_progress, **options):
        bar = tqdm(total=0, unit="ev", disable=no_progress, file=self.stderr._out)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = rebuild(batch_size=batch_size, progress=progress)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"rebuilt {len(report.tables)} tables from {report.events} events in"
                f" {report.seconds:.2f} s ({report.events_per_second:,.0f} events/s)"
            )
        )
