"""manage.py ensure_demo_user: the documented development login; refused in production."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-ledger-2026"  # noqa: S105 - documented development login


class Command(BaseCommand):
    help = "Create the development demo superuser (demo / demo-ledger-2026) if it is missing."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("the demo user exists only in development")
        users = get_user_model()
        user, created = users.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.invalid"}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.is_staff = True
            user.is_superuser = True
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(f"demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
