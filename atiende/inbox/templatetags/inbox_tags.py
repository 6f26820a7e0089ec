"""Small display helpers for the inbox: list times, day separators, file icons."""

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

register = template.Library()

EMOJIS = (
    "😀",
    "😁",
    "😂",
    "🤣",
    "😊",
    "😍",
    "😘",
    "😉",
    "🙂",
    "🤗",
    "🤔",
    "😅",
    "😢",
    "😭",
    "😡",
    "😮",
    "👍",
    "👎",
    "👏",
    "🙏",
    "💪",
    "👌",
    "✌️",
    "🤝",
    "👋",
    "❤️",
    "💙",
    "💚",
    "🔥",
    "⭐",
    "✅",
    "❌",
    "⚠️",
    "🎉",
    "🎁",
    "📞",
    "📧",
    "📅",
    "⏰",
    "💳",
    "💰",
    "📄",
    "📎",
    "🚗",
    "🏠",
    "🏥",
    "🛡️",
    "☕",
)


@register.simple_tag
def emojis() -> tuple[str, ...]:
    """The composer's emoji grid: common ones in customer service, no library needed."""
    return EMOJIS


@register.filter
def list_time(value: datetime.datetime | None) -> str:
    """Today: 14:05; this week: the weekday; older: 03/02/2025 (in the user's format)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return date_format(local, "H:i")
    if local.date() == today - datetime.timedelta(days=1):
        return _("Ayer")
    if (today - local.date()).days < 7:
        return date_format(local, "l")
    return date_format(local, "SHORT_DATE_FORMAT")


@register.filter
def day_label(day: datetime.date) -> str:
    today = timezone.localdate()
    if day == today:
        return _("Hoy")
    if day == today - datetime.timedelta(days=1):
        return _("Ayer")
    return f"{date_format(day, 'l')}, {date_format(day, 'DATE_FORMAT')}"


@register.filter
def message_time(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "H:i")


@register.filter
def mime_family(mime_type: str) -> str:
    return (mime_type or "").split("/")[0]


@register.filter
def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
