"""Creates the default Support pipeline with the guide's eight stages."""

from django.db import migrations

from atiende.tickets.defaults import (
    SUPPORT_PIPELINE_KEY,
    SUPPORT_PIPELINE_NAME,
    SUPPORT_STAGES,
    SUPPORT_TEAM_NAME,
)


def create_support_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("tickets", "Pipeline")
    Stage = apps.get_model("tickets", "Stage")
    Team = apps.get_model("users", "Team")
    if Pipeline.objects.filter(key=SUPPORT_PIPELINE_KEY).exists():
        return
    pipeline = Pipeline.objects.create(
        key=SUPPORT_PIPELINE_KEY,
        name=SUPPORT_PIPELINE_NAME,
        team=Team.objects.filter(name=SUPPORT_TEAM_NAME).first(),
        position=0,
        is_default=not Pipeline.objects.filter(is_default=True).exists(),
    )
    for position, (key, name, meaning, color, closed, pauses, escalation) in enumerate(
        SUPPORT_STAGES
    ):
        Stage.objects.create(
            pipeline=pipeline,
            key=key,
            name=name,
            help_text=meaning,
            position=position,
            color=color,
            is_closed=closed,
            pauses_sla=pauses,
            is_escalation=escalation,
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_support_pipeline, migrations.RunPython.noop)]
