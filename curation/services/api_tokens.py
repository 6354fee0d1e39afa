"""API tokens: each user has at most one; creating a new one revokes the old (rest_framework.authtoken)."""
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.authtoken.models import Token


def token_for(*, user: User) -> Token | None:
    return Token.objects.filter(user=user).first()


def token_rotate(*, user: User) -> Token:
    """A fresh token for the user; the previous one stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)
