"""Role checks shared by pages: who may see and do what (the permissions come from the role groups)."""
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ROLE_ADMIN = "admin"
ROLE_CURATOR = "curator"
ROLE_REVIEWER = "reviewer"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    roles = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    if user.is_superuser:  # type: ignore[attr-defined]
        roles.add(ROLE_ADMIN)
    return roles
