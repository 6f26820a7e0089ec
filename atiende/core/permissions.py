from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def require(user: Any, perm: str, obj: Any = None) -> None:
    """Raise PermissionDenied (403 in the UI and the API) unless `user` has `perm` on `obj`."""
    if not (user and user.has_perm(perm, obj)):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
