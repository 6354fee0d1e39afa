"""`Authorization: Token <key>` against hashed keys, with failed attempts throttled per client address."""
from typing import Any

from django.contrib.auth.models import User
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from curation.services.api_tokens import token_user


class TokenFailureThrottle(SimpleRateThrottle):
    """Counts failed token attempts per client address (rate: DEFAULT_THROTTLE_RATES["token_failure"])."""

    scope = "token_failure"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _recent(self, request: Request) -> list[float]:
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return self.history

    def locked_out(self, request: Request) -> float | None:
        """Seconds to wait when this address has used up its failures, else None."""
        if len(self._recent(request)) >= self.num_requests:
            return self.wait()
        return None

    def failed(self, request: Request) -> None:
        self._recent(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        throttle = TokenFailureThrottle()
        wait = throttle.locked_out(request)
        if wait is not None and request.META.get("HTTP_AUTHORIZATION", "").startswith(f"{self.keyword} "):
            raise exceptions.Throttled(wait=wait, detail="Too many failed token attempts from this address.")
        try:
            return super().authenticate(request)  # type: ignore[return-value]
        except exceptions.AuthenticationFailed:
            throttle.failed(request)
            raise

    def authenticate_credentials(self, key: str) -> tuple[User, None]:
        user = token_user(key=key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return user, None
