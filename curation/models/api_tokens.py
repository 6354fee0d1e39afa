"""API tokens stored hashed: the database holds a SHA-256 digest of each key, never the key itself."""
from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's one API token (sent as `Authorization: Token <key>`); the key is shown once, when it is made."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell tokens apart.")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
