import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("inbox", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=64, unique=True)),
                ("raw", models.JSONField(default=dict)),
                ("received_at", models.DateTimeField(auto_now_add=True, verbose_name="recibido")),
                (
                    "processed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="procesado"),
                ),
                ("error", models.TextField(blank=True)),
                (
                    "channel",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="whatsapp_events",
                        to="inbox.channel",
                    ),
                ),
            ],
            options={
                "verbose_name": "evento de WhatsApp",
                "verbose_name_plural": "eventos de WhatsApp",
                "ordering": ["-received_at", "-id"],
            },
        ),
    ]
