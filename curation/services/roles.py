"""The three roles as groups with their permissions; the one definition the admin and the tests use.

Migration 0002 created them with a frozen copy of these lists; `manage.py roles_sync` brings existing groups
up to date after new permissions appear (the admin group always holds every permission).
"""
from django.contrib.auth.models import Group, Permission
from django.db import transaction

ROLE_ADMIN = "admin"
ROLE_CURATOR = "curator"
ROLE_REVIEWER = "reviewer"

REVIEWER_PERMISSIONS = [
    "curation.review_item",
    "curation.view_source",
    "curation.view_sourcerow",
    "curation.view_image",
    "curation.view_subset",
    "curation.view_sample",
    "curation.view_reviewqueue",
    "curation.view_reviewitem",
    "curation.view_job",
    "curation.view_mapping",
    "curation.view_benchmark",
]
CURATOR_PERMISSIONS = REVIEWER_PERMISSIONS + [
    "curation.ingest_source",
    "curation.add_source",
    "curation.change_source",
    "curation.delete_source",
    "curation.decide_mapping",
    "curation.add_mapping",
    "curation.change_mapping",
    "curation.add_subset",
    "curation.change_subset",
    "curation.approve_subset",
    "curation.change_sample",
    "curation.bulk_decide_item",
    "curation.add_reviewqueue",
    "curation.change_reviewqueue",
    "curation.add_reviewitem",
    "curation.view_decision",
    "curation.export_data",
    "curation.add_export",
    "curation.view_export",
    "curation.add_benchmark",
    "curation.change_benchmark",
]


def _permissions(names: list[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type").filter(codename__in=[c for _, c in wanted])
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"permissions missing (run migrate first): {sorted('.'.join(m) for m in missing)}")
    return found


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create or update the role groups; returns how many permissions each holds."""
    plan = {
        ROLE_REVIEWER: _permissions(REVIEWER_PERMISSIONS),
        ROLE_CURATOR: _permissions(CURATOR_PERMISSIONS),
        ROLE_ADMIN: list(Permission.objects.all()),
    }
    counts = {}
    for name, perms in plan.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms)
        counts[name] = len(perms)
    return counts
