"""Writes for the bell: notify people, mark what they read, choose what also goes by e-mail.

Other apps call `notify()` (tickets on assignment, SLA jobs, inbox on @mentions…). It never
notifies the actor of their own action, can be told to notify only once per `dedupe_key`, pushes a
realtime event to each recipient once the transaction commits, and queues an e-mail for the
recipients who asked for that kind by e-mail.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.core.realtime import publish, user_group
from atiende.notifications.models import Kind, Notification, NotificationPreference
from atiende.notifications.selectors import unread_count
from atiende.users.models import User


def _event(notification: Notification, unread: int) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "unread": unread,
    }


def _after_commit(notifications: list[Notification]) -> None:
    from atiende.notifications import jobs  # the job module imports this one

    for notification in notifications:
        publish(
            user_group(notification.recipient_id),
            _event(notification, unread_count(notification.recipient_id)),
        )
    by_email = set(
        NotificationPreference.objects.filter(
            user_id__in=[n.recipient_id for n in notifications],
            kind__in={n.kind for n in notifications},
            by_email=True,
        ).values_list("user_id", "kind")
    )
    for notification in notifications:
        if (notification.recipient_id, notification.kind) in by_email:
            jobs.send_notification_email(notification.pk)


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    actor: User | None = None,
    target: Any = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify each recipient but the actor; with `dedupe_key`, once per recipient and kind."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Tipo de notificación desconocido.")})
    if url and not url.startswith("/"):
        raise ValidationError({"url": _("El enlace debe ser una ruta interna.")})
    people: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active:
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        people.setdefault(user.pk, user)
    if dedupe_key and people:
        already = Notification.objects.filter(
            recipient_id__in=people, kind=kind, dedupe_key=dedupe_key
        ).values_list("recipient_id", flat=True)
        for user_id in already:
            people.pop(user_id, None)
    if not people:
        return []
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            title=title[:200],
            body=body,
            url=url,
            actor=actor,
            target_type=target_type,
            target_id=target.pk if target is not None else None,
            dedupe_key=dedupe_key,
        )
        for user in people.values()
    ]
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        # Another process deduplicated first (two ticks at once): keep the rows that fit.
        created = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            created.append(row)
    if created:
        transaction.on_commit(lambda: _after_commit(created))
    return created


@transaction.atomic
def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (`ids=None`: all of them); others' are refused."""
    mine = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        ids = {int(i) for i in ids}
        if Notification.objects.filter(pk__in=ids).exclude(recipient=user).exists():
            raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
        mine = mine.filter(pk__in=ids)
    changed = mine.update(read_at=timezone.now())
    if changed:
        user_id = user.pk
        transaction.on_commit(
            lambda: publish(
                user_group(user_id), {"type": "notification.read", "unread": unread_count(user_id)}
            )
        )
    return changed


@transaction.atomic
def set_preferences(*, user: User, by_email: dict[str, bool]) -> dict[str, bool]:
    """Choose which kinds also go by e-mail; kinds not mentioned keep their setting."""
    unknown = sorted(set(by_email) - set(Kind.values))
    if unknown:
        raise ValidationError(
            {
                "by_email": _("Tipo de notificación desconocido: %(kinds)s")
                % {"kinds": ", ".join(unknown)}
            }
        )
    for kind, value in by_email.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"by_email": bool(value)}
        )
    return email_preferences(user)


def email_preferences(user: User) -> dict[str, bool]:
    """Every kind → whether it also goes by e-mail (default: no)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "by_email"))
    return {kind: chosen.get(kind, False) for kind in Kind.values}
