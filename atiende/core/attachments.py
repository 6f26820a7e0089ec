"""Storing uploaded files: size- and type-checked before anything is written."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.translation import gettext as _

from atiende.core.models import Attachment

# Extension → (MIME type, magic prefixes). An empty tuple means a text format with no signature.
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    ".mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    ".ogg": ("audio/ogg", (b"OggS",)),
    ".opus": ("audio/ogg", (b"OggS",)),
    ".m4a": ("audio/mp4", ()),
    ".mp4": ("video/mp4", ()),
    ".webm": ("video/webm", (b"\x1a\x45\xdf\xa3",)),
    ".wav": ("audio/wav", (b"RIFF",)),
    ".txt": ("text/plain", ()),
    ".csv": ("text/csv", ()),
}


def max_upload_bytes() -> int:
    return settings.ATIENDE_MAX_UPLOAD_MB * 1024 * 1024


def check_upload(upload: UploadedFile) -> str:
    """The file's MIME type when its size, extension and first bytes are acceptable."""
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": _("El archivo está vacío.")})
    if upload.size > max_upload_bytes():
        raise ValidationError(
            {
                "file": _("El archivo supera el tamaño máximo de %(mb)s MB.")
                % {"mb": settings.ATIENDE_MAX_UPLOAD_MB}
            }
        )
    extension = Path(upload.name or "").suffix.lower()
    if extension not in ALLOWED_TYPES:
        raise ValidationError({"file": _("Tipo de archivo no permitido.")})
    mime_type, signatures = ALLOWED_TYPES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if signatures and not head.startswith(signatures):
        raise ValidationError({"file": _("El contenido del archivo no corresponde a su tipo.")})
    if not signatures and b"\x00" in head and mime_type.startswith("text/"):
        raise ValidationError({"file": _("El contenido del archivo no corresponde a su tipo.")})
    return mime_type


def store_attachment(
    *,
    upload: UploadedFile,
    by: Any,
    contact: Any = None,
    owner: models.Model | None = None,
) -> Attachment:
    """Check and save one upload. Callers check their own permission on the owner first."""
    mime_type = check_upload(upload)
    name = Path(upload.name or "archivo").name[:200]
    attachment = Attachment(
        name=name,
        mime_type=mime_type,
        size=upload.size,
        contact=contact,
        owner_type=ContentType.objects.get_for_model(owner) if owner is not None else None,
        owner_id=str(owner.pk) if owner is not None else "",
        uploaded_by=by if getattr(by, "pk", None) else None,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment
