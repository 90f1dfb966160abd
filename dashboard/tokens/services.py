"""Creating, revoking and checking API tokens.

A token is `oat_` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
digest is stored, so a copy of the database opens nothing; as the value is random, a plain
digest is as strong as a slow password hash and costs one indexed lookup per request.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from dashboard.tokens.models import ApiToken

PREFIX = "oat_"
# last_used is written at most this often per token, so a poll every second costs no write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`: (its record, its value). The value is never stored: show it
    once."""
    value = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, digest=digest(value), prefix=value[:10])
    return token, value


def revoke_tokens(user: User) -> int:
    """Revoke every live token of `user`; how many were."""
    return ApiToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now())


def user_for_token(value: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, user inactive)."""
    if not value.startswith(PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(value), revoked__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
