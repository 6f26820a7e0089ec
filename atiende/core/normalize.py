"""One way to normalise what people type: phones (E.164), e-mails, identifications and names.

Search and storage both go through these functions, so `0991-651351`, `+595 991 651 351` and
`595991651351` all reduce to the same key.
"""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_NON_DIGITS = re.compile(r"\D+")
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed: "  Núñez  PÉREZ" → "nunez perez"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def _parse_phone(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """A valid number from `raw`, trying the default region and then an implied '+'."""
    text = (raw or "").strip()
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None
    candidates = [text] if text.startswith("+") else [text, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def normalize_phone(raw: str, region: str | None = None) -> str:
    """E.164 for a phone number typed in any local or international format, else ValidationError."""
    number = _parse_phone(raw, region or settings.ATIENDE_PHONE_REGION)
    if number is None:
        raise ValidationError(
            _("«%(value)s» no es un número de teléfono válido."),
            code="invalid_phone",
            params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_key(raw: str, region: str | None = None) -> str:
    """The searchable key of a phone: its national significant number, or its bare digits.

    Keying on the national number lets a search without country code or with a trunk zero find
    the same contact as one with the full international number.
    """
    number = _parse_phone(raw, region or settings.ATIENDE_PHONE_REGION)
    if number is not None:
        return phonenumbers.national_significant_number(number)
    return _NON_DIGITS.sub("", raw or "").lstrip("0")


def format_phone(e164: str) -> str:
    """Readable international format for display: "+595 991 651351"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(raw: str) -> str:
    """Lower-cased, validated e-mail address, else ValidationError."""
    value = (raw or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(
            _("«%(value)s» no es un correo electrónico válido."),
            code="invalid_email",
            params={"value": raw},
        ) from exc
    return value


def identification_key(raw: str) -> str:
    """Identifications compare without dots, dashes, spaces or case: "1.234.567-k" → "1234567K"."""
    return _NON_ALNUM.sub("", fold(raw).upper())
