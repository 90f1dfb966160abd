from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.tokens.services import create_token, revoke_tokens


class Command(BaseCommand):
    help = (
        "API tokens for machine clients: `create USER` prints a new token once (only its digest "
        "is stored); `revoke USER` revokes every token of USER. A token opens the read-only /api/ "
        "endpoints as USER with `Authorization: Bearer <token>`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token for USER and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="api", help="what the token is for (default: %(default)s)")
        revoke = actions.add_parser("revoke", help="revoke every token of USER")
        revoke.add_argument("username")

    def handle(self, *args: Any, action: str, username: str, **options: Any) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user called {username!r}.") from None
        if action == "create":
            if not user.is_active:
                raise CommandError(f"User {username!r} is inactive: its tokens would open nothing.")
            _, value = create_token(user, options["name"])
            self.stderr.write(f"A new API token for {username!r}; it is shown only now:")
            self.stdout.write(value)
        else:
            count = revoke_tokens(user)
            self.stdout.write(f"Revoked {count} token(s) of {username!r}.")
