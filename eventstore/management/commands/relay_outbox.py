"""manage.py relay_outbox: deliver outbox rows to the broker, retrying until it takes them."""

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore.outbox import dispatch, relay


class Command(BaseCommand):
    help = "Publish pending outbox messages; runs until stopped unless --once is given."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, once, **options):
        if once:
            report = dispatch()
            self.stdout.write(f"sent {report.sent}, failed {report.failed}")
            return
        self.stdout.write("outbox relay running")
        relay(poll_seconds=settings.LEDGER_OUTBOX_POLL_SECONDS)
