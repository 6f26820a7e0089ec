"""On PostgreSQL, the trays sort by `last_message_at DESC NULLS LAST, id DESC` (the order SQLite
gives `DESC`), but `conv_tray` is `(status, last_message_at DESC)`, NULLS FIRST there: every
conversation of a tray was sorted for each page. This index has the trays' exact order.

SQLite sorts NULLs last on `DESC` already and uses `conv_tray`; the migration does nothing there.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS conv_tray_nulls_last ON inbox_conversation "
        "(status, last_message_at DESC NULLS LAST, id DESC)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS conv_tray_nulls_last")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0003_template_variable_map")]
    operations = [migrations.RunPython(create, drop)]
