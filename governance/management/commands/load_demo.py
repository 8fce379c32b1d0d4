"""manage.py load_demo: the demo's people and models, recorded through the commands, once
(governance/management/demo.py); refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.management.demo import MODELS, load_demo, logins


class Command(BaseCommand):
    help = "Record the demo (models at every governance step, a person per role), once."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("the demo is for development databases only", returncode=2)
        demo = load_demo()
        if options["verbosity"] == 0:
            return
        said = "recorded" if demo.created else "already recorded"
        self.stdout.write(f"demo {said}: models {', '.join(MODELS)}")
        self.stdout.write("demo logins (role: user / password):")
        for role, username, password in logins():
            self.stdout.write(f"  {role}: {username} / {password}")
