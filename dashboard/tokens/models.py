"""ApiToken: one API token of a user, kept as the SHA-256 digest of its value (never the
value itself), in the "default" database beside the users."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “sales sheet”.")
    # hex SHA-256 of the token: enough for a random 256-bit value (nothing to brute-force),
    # and one indexed lookup per request.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so its owner can tell tokens apart (never enough to use).
    prefix = models.CharField(max_length=12, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        app_label = "dashboard"
        db_table = "dashboard_api_token"
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
