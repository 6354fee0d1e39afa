"""API tokens: each user has at most one; creating a new one revokes the old. Only a digest of the key is stored,
so the key is shown once, when it is made (a database leak gives no working token)."""
import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction

from curation.models import ApiToken

# 40 hex characters, as rest_framework.authtoken's keys were (clients that checked the length keep working).
KEY_BYTES = 20


def token_digest(key: str) -> str:
    # A random 160-bit key needs no slow hash: nobody can guess it, and SHA-256 of it cannot be reversed.
    return hashlib.sha256(key.encode()).hexdigest()


def token_for(*, user: User) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


def token_rotate(*, user: User) -> tuple[ApiToken, str]:
    """A fresh token for the user and its key (shown once); the previous token stops working at once."""
    key = secrets.token_hex(KEY_BYTES)
    with transaction.atomic():
        ApiToken.objects.filter(user=user).delete()
        token = ApiToken.objects.create(user=user, digest=token_digest(key), prefix=key[:8])
    return token, key


def token_user(*, key: str) -> User | None:
    """The active user a key belongs to, or None."""
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
    return token.user if token is not None and token.user.is_active else None
