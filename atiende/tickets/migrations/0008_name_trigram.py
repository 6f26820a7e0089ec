"""On PostgreSQL, the ticket list's search (`name__icontains`, which Django sends as
`UPPER(name::text) LIKE UPPER('%…%')`) uses a trigram GIN index on that same expression.

The search also matches an account number exactly (`number__iexact`, sent as
`UPPER(number::text) = UPPER(…)`): contacts/0003 indexes that expression.

SQLite has no trigram index; the migration does nothing there.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ticket_name_trgm "
        "ON tickets_ticket USING gin ((UPPER(name::text)) gin_trgm_ops)"
    )
    # Statistics for the indexed expression: without them the planner guessed 100 matches for
    # a word in 125,000 names and sorted them all instead of walking the last-activity index.
    schema_editor.execute("ANALYZE tickets_ticket")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_name_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_account_number_upper"),
        ("tickets", "0007_ticket_open_owner"),
    ]
    operations = [migrations.RunPython(create, drop)]
