"""manage.py link_streams: name on each model's and version's stream every stream about it
that was opened before such streams were linked (registry.StreamLinked)."""

from django.core.management.base import BaseCommand

from registry.policies import link_unlinked_streams


class Command(BaseCommand):
    help = (
        "Record a registry.StreamLinked event for every approval request, review, audit,"
        " finding, incident, evidence or risk stream opened before links were recorded."
        " Safe to run again: a stream already linked is not linked twice."
    )

    def handle(self, *args, **options):
        linked = link_unlinked_streams()
        self.stdout.write(f"linked {linked} streams")
