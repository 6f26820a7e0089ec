"""Default SLA policies for the Support pipeline (guide 001): the customer is updated every 48 h
while a ticket is unresolved; resolution expected in 24 h (high, urgent) to 48 h (low, medium)."""

from django.conf import settings
from django.db import migrations

# priority, first response (min), resolution (min)
DEFAULTS = [
    ("urgent", 60, 24 * 60),
    ("high", 2 * 60, 24 * 60),
    ("medium", 4 * 60, 48 * 60),
    ("low", 8 * 60, 48 * 60),
]
NAMES = {"urgent": "Urgente", "high": "Alta", "medium": "Media", "low": "Baja"}


def create_policies(apps, schema_editor):
    Pipeline = apps.get_model("tickets", "Pipeline")
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    pipeline = Pipeline.objects.filter(key="support").first()
    if pipeline is None or SlaPolicy.objects.filter(pipeline=pipeline).exists():
        return
    for priority, first_response, resolution in DEFAULTS:
        SlaPolicy.objects.create(
            name=f"Soporte · {NAMES[priority]}",
            pipeline=pipeline,
            priority=priority,
            first_response_minutes=first_response,
            customer_update_minutes=48 * 60,
            resolution_minutes=resolution,
            time_zone=settings.TIME_ZONE,
            holiday_country=getattr(settings, "ATIENDE_PHONE_REGION", "")[:2],
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_sla")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
