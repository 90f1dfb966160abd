import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create a user, or reset its password, with the password read from an environment "
        "variable (so it never shows in the process list). Used for the local demo login."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--password-env",
            default="DEMO_PASSWORD",
            help="environment variable that holds the password (default: %(default)s)",
        )

    def handle(self, *args, username, password_env, **options):
        password = os.environ.get(password_env, "")
        if not password:
            raise CommandError(f"Set the password in the environment variable {password_env}.")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} user {username!r}.")
