"""The list's "Ticket owner" counts group open tickets by owner on every load: a partial index
on owner for open tickets answers them without reading each ticket's row (bench/README.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_sla_check")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True)),
                fields=["owner"],
                name="ticket_open_owner",
            ),
        ),
    ]
