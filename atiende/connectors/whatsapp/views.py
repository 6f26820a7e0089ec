from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atiende.inbox import services
from atiende.inbox.models import Channel


@login_required
@require_POST
def sync_templates(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The "Sincronizar plantillas" button of a WhatsApp channel's settings."""
    channel = get_object_or_404(Channel, pk=channel_id, kind="whatsapp")
    try:
        count = services.sync_channel_templates(channel=channel, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Plantillas sincronizadas: %(count)s.") % {"count": count})
    return redirect("inbox:settings_channel_edit", channel.pk)
