"""Curators may delete sources (with what goes with them); existing curator groups get the permission here,
as `manage.py roles_sync` would (services/roles.py lists it)."""
from django.db import migrations


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(content_type__app_label="curation", codename="delete_source").first()
    if permission is None:  # a fresh database: 0002 has not created permissions for this model yet
        return
    for group in Group.objects.filter(name="curator"):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="curator"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="curation", codename="delete_source"))


class Migration(migrations.Migration):
    dependencies = [("curation", "0015_merge_0005_api_tokens_hashed_0014_merge_20261201_2121")]
    operations = [migrations.RunPython(grant, revoke)]
