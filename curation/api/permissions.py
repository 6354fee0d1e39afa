"""API permissions: each view names the Django permission it needs (the role groups grant them)."""
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def perm_required(perm: str) -> type[BasePermission]:
    """A DRF permission class granting access to signed-in users with `perm` (e.g. "curation.export_data")."""

    class HasPerm(BasePermission):
        message = f"You need the {perm} permission."

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(perm))

    HasPerm.__name__ = HasPerm.__qualname__ = f"Has_{perm.replace('.', '_')}"
    return HasPerm
