"""Create the three role groups (admin, curator, reviewer) with their permissions."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWER = [
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
CURATOR = REVIEWER + [
    "curation.ingest_source",
    "curation.add_source",
    "curation.change_source",
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


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(names):
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return found

    Group.objects.get_or_create(name="reviewer")[0].permissions.set(perms(REVIEWER))
    Group.objects.get_or_create(name="curator")[0].permissions.set(perms(CURATOR))
    admin, _ = Group.objects.get_or_create(name="admin")
    admin.permissions.set(Permission.objects.all())


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["admin", "curator", "reviewer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
