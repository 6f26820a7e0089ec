"""The audit history: every write a person makes records who, when and before → after."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from atiende.core.models import AuditEntry


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """Plain values of `fields`, taken before a change so `record` can diff against them."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = str(value)
        values[name] = value if isinstance(value, str | int | bool | type(None)) else str(value)
    return values


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Store the fields that differ; a change that changed nothing leaves no entry."""
    before = before or {}
    after = after or {}
    changes = {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
    if action == "update" and not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
    )
