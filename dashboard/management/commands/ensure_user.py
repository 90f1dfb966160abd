import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Create a user, or set its password if it differs, with the password read from an environment "
        "variable (so it never shows in the process list). Used for the local demo login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--password-env",
            default="DEMO_PASSWORD",
            help="environment variable that holds the password (default: %(default)s)",
        )

    def handle(self, *args: Any, username: str, password_env: str, **options: Any) -> None:
        password = os.environ.get(password_env, "")
        if not password:
            raise CommandError(f"Set the password in the environment variable {password_env}.")
        user, created = get_user_model().objects.get_or_create(username=username)
        if not created and user.check_password(password):
            # Setting it again would store a new hash and log out every session of the user.
            self.stdout.write(f"User {username!r} already has that password.")
            return
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} user {username!r}.")
