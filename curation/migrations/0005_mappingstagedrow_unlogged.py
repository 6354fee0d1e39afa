"""The stage of apply is scratch space: on PostgreSQL it skips the write-ahead log (UNLOGGED).

After a database crash PostgreSQL empties it; the apply job's retry rebuilds the stage from the source's
rows (it always starts from an empty stage), and the live samples are untouched until the swap.
"""
from django.db import migrations


def _set_logged(logged: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("curation", "MappingStagedRow")._meta.db_table
        schema_editor.execute(f"ALTER TABLE {table} SET {'LOGGED' if logged else 'UNLOGGED'}")

    return run


class Migration(migrations.Migration):
    dependencies = [("curation", "0004_job_parent_heartbeat")]

    operations = [migrations.RunPython(_set_logged(False), _set_logged(True))]
