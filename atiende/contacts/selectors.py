"""Every non-trivial read about contacts: search, the filtered list, duplicates, history."""

import datetime
import re
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import QueryDict

from atiende.contacts.models import (
    Contact,
    ContactGroup,
    ContactPoint,
    ContactRelation,
    CustomField,
    Label,
)
from atiende.core.dates import day_start
from atiende.core.models import Attachment, AuditEntry
from atiende.core.normalize import fold, identification_key, phone_key
from atiende.users.models import User

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-]{6,}$")
_NON_DIGITS = re.compile(r"\D+")
# A phone or e-mail shared by more contacts than this is not a search, it is a list.
MAX_POINT_MATCHES = 500
# A name matching more contacts than this is searched as a subquery, not as a list of ids.
MAX_NAME_MATCHES = 1000
SORTS = {
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    # Contacts never interacted with go last either way, on SQLite and PostgreSQL alike.
    "last_interaction": (F("last_interaction_at").asc(nulls_last=True), "id"),
    "-last_interaction": (F("last_interaction_at").desc(nulls_last=True), "-id"),
}


def _visible(user: User) -> QuerySet[Contact]:
    if not user.has_perm("contacts.view_contact"):
        raise PermissionDenied
    return Contact.objects.all()


def search_condition(query: str) -> Q:
    """Match a typed query against names, identification, e-mails and phones in any format."""
    text = (query or "").strip()
    if not text:
        return Q()
    condition = Q()
    folded = fold(text)
    # An e-mail or a phone is never part of a name: matching it with `LIKE '%…%'` would only add
    # a scan of every contact to a query the indexes answer (measured by `python -m bench`).
    if folded and "@" not in text and not _PHONE_LIKE.match(text):
        # Matched once, on the index of `search_name` alone: SQLite otherwise walked the list's
        # sort index reading every contact's row to test it (260 → 20 ms at 100k). A short match
        # becomes a list of ids, so the page and its total do not scan twice; a common name
        # stays a subquery.
        named = Contact.objects.filter(search_name__contains=folded).order_by()
        ids = list(named.values_list("id", flat=True)[: MAX_NAME_MATCHES + 1])
        if len(ids) > MAX_NAME_MATCHES:
            condition |= Q(id__in=named.values("id"))
        else:
            condition |= Q(id__in=ids)
    keys: set[str] = set()
    if "@" in text:
        keys.add(text.lower())
    elif _PHONE_LIKE.match(text):
        # The parsed key, and the bare national digits: "321 9443544" is a Colombian mobile typed
        # without +57, which the default region reads as some other country's number.
        keys |= {phone_key(text), _NON_DIGITS.sub("", text).lstrip("0")} - {""}
    if keys:
        # Looked up first (an indexed equality, a handful of ids): `id IN (subquery)` ORed with the
        # identification made PostgreSQL scan every contact (400-650 ms at 100k contacts).
        points = ContactPoint.objects.filter(search_value__in=keys).order_by()
        ids = list(points.values_list("contact_id", flat=True).distinct()[:MAX_POINT_MATCHES])
        condition |= Q(id__in=ids)
    ident = identification_key(text)
    if ident and any(ch.isdigit() for ch in ident):
        condition |= Q(identification_key=ident)
    return condition


def search_contacts(*, user: User, query: str) -> QuerySet[Contact]:
    """Contacts matching `query` (name, e-mail, identification, phone), best-known first."""
    condition = search_condition(query)
    if not condition:
        return Contact.objects.none()
    return (
        _visible(user)
        .filter(condition)
        .select_related("assigned_to")
        .order_by(*SORTS["-last_interaction"])
    )


@dataclass
class ContactFilters:
    query: str = ""
    assigned_to: int | None = None
    unassigned: bool = False
    label: int | None = None
    group: int | None = None
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    interaction_from: datetime.date | None = None
    interaction_to: datetime.date | None = None
    sort: str = "-created"
    ids: list[int] = field(default_factory=list)


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _date_or_none(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def filters_from_query(query: QueryDict | dict) -> ContactFilters:
    """The list filters as they travel in the URL (list page, export, API); bad values are ignored.

    `?q=&assigned_to=<id>|none&label=<id>&group=<id>&created_from=&created_to=
    &interaction_from=&interaction_to=` (dates AAAA-MM-DD) `&sort=<key of SORTS>&ids=1,2&ids=3`.
    """
    get = query.get
    assigned = (get("assigned_to") or "").strip()
    raw_ids = query.getlist("ids") if hasattr(query, "getlist") else [get("ids") or ""]
    ids = [
        number
        for chunk in raw_ids
        for part in str(chunk).split(",")
        if (number := _int_or_none(part)) is not None
    ]
    sort = (get("sort") or "").strip()
    return ContactFilters(
        query=(get("q") or "").strip()[:200],
        assigned_to=None if assigned == "none" else _int_or_none(assigned),
        unassigned=assigned == "none",
        label=_int_or_none(get("label")),
        group=_int_or_none(get("group")),
        created_from=_date_or_none(get("created_from")),
        created_to=_date_or_none(get("created_to")),
        interaction_from=_date_or_none(get("interaction_from")),
        interaction_to=_date_or_none(get("interaction_to")),
        sort=sort if sort in SORTS else "-created",
        ids=ids,
    )


def contacts_for_list(*, user: User, filters: ContactFilters) -> QuerySet[Contact]:
    """The contact list: filtered, sorted, joined for the table (labels prefetched)."""
    contacts = _visible(user)
    if filters.query:
        contacts = contacts.filter(search_condition(filters.query))
    if filters.ids:
        contacts = contacts.filter(id__in=filters.ids)
    if filters.unassigned:
        contacts = contacts.filter(assigned_to__isnull=True)
    elif filters.assigned_to:
        contacts = contacts.filter(assigned_to_id=filters.assigned_to)
    if filters.label:
        contacts = contacts.filter(labels__id=filters.label)
    if filters.group:
        contacts = contacts.filter(groups__id=filters.group)
    if filters.created_from:
        contacts = contacts.filter(created_at__gte=day_start(filters.created_from))
    if filters.created_to:
        contacts = contacts.filter(created_at__lt=day_start(filters.created_to, days=1))
    if filters.interaction_from:
        contacts = contacts.filter(last_interaction_at__gte=day_start(filters.interaction_from))
    if filters.interaction_to:
        contacts = contacts.filter(
            last_interaction_at__lt=day_start(filters.interaction_to, days=1)
        )
    order = SORTS.get(filters.sort, SORTS["-created"])
    return contacts.select_related("assigned_to").prefetch_related("labels").order_by(*order)


def contact_detail(*, user: User, contact_id: int) -> Contact:
    """One contact, joined for the profile header."""
    return (
        _visible(user)
        .select_related("assigned_to", "created_by", "updated_by")
        .prefetch_related("labels", "groups")
        .get(pk=contact_id)
    )


def related_contacts(*, contact: Contact) -> list[tuple[ContactRelation, Contact]]:
    """Every relation of the contact, with the other side, whichever side it was stored from."""
    relations = (
        ContactRelation.objects.filter(Q(from_contact=contact) | Q(to_contact=contact))
        .select_related("from_contact", "to_contact")
        .order_by("id")
    )
    return [
        (r, r.to_contact if r.from_contact_id == contact.pk else r.from_contact) for r in relations
    ]


def possible_duplicates(*, contact: Contact, limit: int = 10) -> QuerySet[Contact]:
    """Other contacts sharing a phone, e-mail or identification, or with the same name."""
    keys = list(
        contact.points.filter(
            kind__in=[*ContactPoint.PHONE_KINDS, ContactPoint.Kind.EMAIL]
        ).values_list("search_value", flat=True)
    )
    condition = Q(id__in=ContactPoint.objects.filter(search_value__in=keys).values("contact_id"))
    if contact.identification_key:
        condition |= Q(identification_key=contact.identification_key)
    if contact.search_name and " " in contact.search_name:
        condition |= Q(search_name=contact.search_name)
    return (
        Contact.objects.filter(condition)
        .exclude(pk=contact.pk)
        .select_related("assigned_to")
        .order_by("-id")[:limit]
    )


def contact_history(*, contact: Contact) -> QuerySet[AuditEntry]:
    """The audit trail of the contact and everything recorded against it, newest first."""
    return (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )


def attachments_for_contact(*, contact: Contact) -> QuerySet[Attachment]:
    """Every file of the client (uploaded on the profile or from its cases and conversations)."""
    return (
        Attachment.objects.filter(contact=contact)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")
    )


# Reverse relations counted on the merge screen, in the order they are shown.
SUMMARY_RELATIONS = {
    "points": "points",
    "accounts": "accounts",
    "notes": "notes_set",
    "tasks": "tasks",
    "calls": "calls",
    "attachments": "attachments",
}


def contact_summary(*, contact: Contact) -> dict[str, int]:
    """How many points, accounts, notes, tasks, calls, attachments and relations a contact has."""
    counts = {
        name: getattr(contact, relation).count() for name, relation in SUMMARY_RELATIONS.items()
    }
    counts["relations"] = ContactRelation.objects.filter(
        Q(from_contact=contact) | Q(to_contact=contact)
    ).count()
    return counts


# --- what an admin defines: labels, groups, custom fields ----------------------------------


def labels_with_counts() -> QuerySet[Label]:
    """Every label with `contacts`, how many contacts carry it: one query."""
    return Label.objects.annotate(contacts=Count("contact")).order_by("name", "id")


def groups_with_counts() -> QuerySet[ContactGroup]:
    """Every group with `contacts`, how many contacts are in it: one query."""
    return ContactGroup.objects.annotate(contacts=Count("contact")).order_by("name", "id")


def custom_fields() -> QuerySet[CustomField]:
    """The custom fields in the order the contact form shows them."""
    return CustomField.objects.order_by("position", "label", "id")


def custom_field_usage(*, field: CustomField) -> int:
    """How many contacts hold a value for the field."""
    return Contact.objects.filter(custom__has_key=field.key).count()
