"""The one base of every domain error: a message for people, a stable code, an HTTP status, extra detail.

Pages map it in one place (annotate/errors.py) and the API in another (curation/api/errors.py), so no view
catches tuples of exception types and no API view translates errors by hand.
"""
from typing import Any


class ApplicationError(Exception):
    """A failure the domain expects and can explain: what went wrong, in words meant for the user."""

    code: str = "error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, extra: Any = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra

    def __str__(self) -> str:
        return self.message
