"""The e-mail copy of a notification, sent by a worker through Django's mail backend."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from atiende.jobs import huey
from atiende.notifications.models import Notification


@huey.task(retries=3, retry_delay=60)
def send_notification_email(notification_id: int) -> bool:
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or not notification.recipient.email:
        return False
    with translation.override(getattr(notification.recipient, "language", None) or "es"):
        lines = [notification.title]
        if notification.body:
            lines += ["", notification.body]
        if notification.url:
            base = getattr(settings, "ATIENDE_BASE_URL", "").rstrip("/")
            lines += ["", _("Ver en Atiende: %(url)s") % {"url": f"{base}{notification.url}"}]
        lines += ["", _("Puedes elegir qué avisos recibir por correo en Ajustes → Notificaciones.")]
        send_mail(
            subject=_("[Atiende] %(title)s") % {"title": notification.title},
            message="\n".join(lines),
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    return True
