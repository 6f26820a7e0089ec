"""On PostgreSQL, partial-name search (`search_name LIKE '%…%'`) uses a trigram GIN index, and
the list sorted by last interaction (NULLS LAST) has an index in that exact order.

On SQLite the btree index on the folded `search_name` column serves prefix and exact matches.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_search_name_trgm "
        "ON contacts_contact USING gin (search_name gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_last_interaction_nulls_last "
        "ON contacts_contact (last_interaction_at DESC NULLS LAST, id DESC)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS contact_search_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS contact_last_interaction_nulls_last")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
