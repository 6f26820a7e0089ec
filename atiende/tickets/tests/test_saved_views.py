"""Advanced filters and saved views: each operator returns exactly the matching tickets (AND, OR,
dates, labels without duplicates, empty / not empty) on whichever database runs the suite
(SQLite by default, PostgreSQL with DATABASE_URL), compile_filters agrees with a pure-Python
reading of the same conditions, bad filters are refused in Spanish, and only the owner or an admin
changes a view."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.contacts.tests.factories import LabelFactory
from atiende.core.dates import day_start
from atiende.tickets import saved_views, selectors
from atiende.tickets.models import SavedView, Ticket
from atiende.tickets.saved_views import compile_filters
from atiende.tickets.selectors import TicketFilters
from atiende.tickets.tests.factories import make_ticket, policy_holder, stage
from atiende.users.models import Team

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _day(days_ago: int) -> datetime.datetime:
    return day_start(TODAY, -days_ago) + datetime.timedelta(hours=10)


@pytest.fixture
def world(agent, supervisor):
    """Five tickets that differ in every filterable field."""
    reclamo = LabelFactory(name="Reclamo", color="#dc3545")
    vip = LabelFactory(name="Cliente VIP", color="#0d6efd")
    tech = Team.objects.create(name="Tech pruebas")
    contact, account = policy_holder(number="POL-777")
    t1 = make_ticket(
        by=agent,
        name="Reclamo de poliza",
        description="El cliente reclama la renovacion",
        priority="high",
        owner=agent,
        labels=[reclamo, vip],
        contact=contact,
        account=account,
        source="email",
    )
    t2 = make_ticket(by=agent, name="Consulta SIN cifras", priority="low", source="whatsapp")
    t3 = make_ticket(
        by=agent,
        name="Cambio de placa",
        priority="urgent",
        owner=supervisor,
        labels=[reclamo],
        stage_key="closed",
        team=tech,
    )
    t4 = make_ticket(by=agent, name="Duplicado de factura", priority="medium", owner=agent)
    t5 = make_ticket(by=agent, name="reclamo tardio", priority="high", labels=[vip])
    Ticket.objects.filter(pk=t1.pk).update(
        created_at=_day(10), last_activity_at=_day(2), sla_state="ok"
    )
    Ticket.objects.filter(pk=t2.pk).update(
        created_at=_day(5),
        last_activity_at=_day(5),
        sla_state="breached",
        customer_update_overdue=True,
    )
    Ticket.objects.filter(pk=t3.pk).update(
        created_at=_day(3), last_activity_at=_day(1), closed_at=_day(1), sla_state=""
    )
    Ticket.objects.filter(pk=t4.pk).update(
        created_at=_day(1),
        last_activity_at=_day(0),
        escalated_at=_day(0),
        sla_state="at_risk",
        stage=stage("waiting_on_customer"),
    )
    Ticket.objects.filter(pk=t5.pk).update(
        created_at=_day(0), last_activity_at=_day(0), sla_state=""
    )
    return {
        "t": [Ticket.objects.get(pk=t.pk) for t in (t1, t2, t3, t4, t5)],
        "reclamo": reclamo,
        "vip": vip,
        "tech": tech,
        "contact": contact,
        "account": account,
    }


def _match(user, filters) -> list[int]:
    """The ids the list returns (a list, so duplicates would show)."""
    qs = selectors.tickets_for_list(user=user, filters=TicketFilters(advanced=filters))
    return [t.pk for t in qs]


def ids(*tickets) -> set[int]:
    return {t.pk for t in tickets}


def one(field, op, value=None, match="all") -> dict:
    return {"match": match, "conditions": [{"field": field, "op": op, "value": value}]}


def test_every_operator_returns_exactly_the_matching_tickets(world, agent, supervisor):
    t1, t2, t3, t4, t5 = world["t"]
    reclamo, vip = world["reclamo"], world["vip"]

    def check(filters, expected):
        found = _match(agent, filters)
        assert len(found) == len(set(found)), "a ticket was listed twice"
        assert set(found) == ids(*expected), filters

    check(one("name", "contains", "reclamo"), [t1, t5])
    check(one("name", "eq", "consulta sin CIFRAS"), [t2])
    check(one("name", "ne", "Cambio de placa"), [t1, t2, t4, t5])
    check(one("description", "empty"), [t2, t3, t4, t5])
    check(one("description", "not_empty"), [t1])
    check(one("priority", "in", ["high", "urgent"]), [t1, t3, t5])
    check(one("priority", "ne", "high"), [t2, t3, t4])
    check(one("owner", "eq", "me"), [t1, t4])
    check(one("owner", "eq", supervisor.pk), [t3])
    check(one("owner", "ne", agent.pk), [t2, t3, t5])  # the unowned count as "not agent"
    check(one("owner", "empty"), [t2, t5])
    check(one("owner", "not_empty"), [t1, t3, t4])
    check(one("team", "eq", world["tech"].pk), [t3])
    check(one("contact", "eq", world["contact"].pk), [t1])
    check(one("account", "not_empty"), [t1])
    check(one("stage", "eq", stage("waiting_on_customer").pk), [t4])
    check(one("stage", "in", [stage("closed").pk, stage("waiting_on_customer").pk]), [t3, t4])
    check(one("pipeline", "eq", t1.pipeline_id), [t1, t2, t3, t4, t5])
    check(one("source", "in", ["email", "whatsapp"]), [t1, t2])
    check(one("label", "eq", reclamo.pk), [t1, t3])
    check(one("label", "ne", reclamo.pk), [t2, t4, t5])
    check(one("label", "in", [reclamo.pk, vip.pk]), [t1, t3, t5])  # t1 has both: once
    check(one("label", "contains", "vip"), [t1, t5])
    check(one("label", "empty"), [t2, t4])
    check(one("label", "not_empty"), [t1, t3, t5])
    check(one("sla_state", "eq", "breached"), [t2])
    check(one("sla_state", "empty"), [t3, t5])
    check(one("sla_state", "in", ["ok", "at_risk"]), [t1, t4])
    check(one("customer_update_overdue", "eq", True), [t2])
    check(one("customer_update_overdue", "eq", "false"), [t1, t3, t4, t5])

    # Dates are whole days: before = earlier days, after = later days, between includes both.
    check(one("created_at", "before", str(TODAY - datetime.timedelta(days=5))), [t1])
    check(one("created_at", "after", str(TODAY - datetime.timedelta(days=3))), [t4, t5])
    check(one("created_at", "eq", str(TODAY - datetime.timedelta(days=3))), [t3])
    between = [str(TODAY - datetime.timedelta(days=5)), str(TODAY - datetime.timedelta(days=1))]
    check(one("created_at", "between", between), [t2, t3, t4])
    check(one("last_activity_at", "eq", str(TODAY)), [t4, t5])
    check(one("closed_at", "not_empty"), [t3])
    check(one("closed_at", "empty"), [t1, t2, t4, t5])
    check(one("escalated_at", "eq", str(TODAY)), [t4])
    check(one("escalated_at", "empty"), [t1, t2, t3, t5])

    # AND and OR, with a label condition that could duplicate rows if it were a join.
    label_and_high = {
        "match": "all",
        "conditions": [
            {"field": "label", "op": "in", "value": [reclamo.pk, vip.pk]},
            {"field": "priority", "op": "eq", "value": "high"},
        ],
    }
    check(label_and_high, [t1, t5])
    check({**label_and_high, "match": "any"}, [t1, t3, t5])
    any_of = {
        "match": "any",
        "conditions": [
            {"field": "owner", "op": "empty"},
            {"field": "closed_at", "op": "not_empty"},
            {"field": "label", "op": "eq", "value": vip.pk},
        ],
    }
    check(any_of, [t1, t2, t3, t5])
    check({"match": "all", "conditions": []}, [t1, t2, t3, t4, t5])


def test_advanced_filter_combines_with_the_simple_filters(world, agent):
    t1, _t2, t3, _t4, t5 = world["t"]
    filters = TicketFilters(
        priority="high", advanced=one("label", "eq", world["vip"].pk), sla_state="ok"
    )
    found = selectors.tickets_for_list(user=agent, filters=filters)
    assert [t.pk for t in found] == [t1.pk]
    none = selectors.tickets_for_list(user=agent, filters=TicketFilters(sla_state="none"))
    assert _ids(none) == ids(t3, t5)


def _ids(qs) -> set[int]:
    return {t.pk for t in qs}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("nada", "objeto"),
        ({"match": "some"}, "match"),
        ({"conditions": {}}, "lista"),
        ({"conditions": [], "extra": 1}, "Claves desconocidas"),
        ({"conditions": ["x"]}, "Condición 1"),
        ({"conditions": [{"field": "password", "op": "eq", "value": "x"}]}, "campo desconocido"),
        ({"conditions": [{"field": "name", "op": "before", "value": "x"}]}, "operador"),
        ({"conditions": [{"field": "name", "op": "contains", "value": "  "}]}, "texto"),
        ({"conditions": [{"field": "priority", "op": "eq", "value": "altísima"}]}, "valor"),
        ({"conditions": [{"field": "priority", "op": "in", "value": []}]}, "al menos un valor"),
        ({"conditions": [{"field": "owner", "op": "eq", "value": "ana"}]}, "identificador"),
        ({"conditions": [{"field": "created_at", "op": "after", "value": "31/12"}]}, "AAAA-MM-DD"),
        (
            {"conditions": [{"field": "created_at", "op": "between", "value": ["2026-02-01"]}]},
            "dos fechas",
        ),
        (
            {
                "conditions": [
                    {"field": "created_at", "op": "between", "value": ["2026-02-01", "2026-01-01"]}
                ]
            },
            "posterior",
        ),
        ({"conditions": [{"field": "customer_update_overdue", "op": "eq", "value": 3}]}, "sí o no"),
        ({"conditions": [{"field": "name", "op": "empty"}] * 21}, "Como máximo 20"),
    ],
)
def test_bad_filters_are_refused_in_spanish(filters, message):
    with pytest.raises(ValidationError) as exc:
        compile_filters(filters)
    assert message in " ".join(exc.value.messages)


def test_save_view_checks_that_ids_exist_and_names_are_unique(agent):
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(
            owner=agent, name="Mía", shared=False, filters=one("stage", "eq", 999999)
        )
    assert "no existe" in " ".join(exc.value.messages)
    assert not SavedView.objects.exists()
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(owner=agent, name="  ", shared=False, filters={})
    assert "nombre" in " ".join(exc.value.messages)
    saved_views.save_view(owner=agent, name="Urgentes", shared=False, filters={})
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(owner=agent, name="urgentes", shared=True, filters={})
    assert "Ya tienes una vista" in " ".join(exc.value.messages)
    assert SavedView.objects.count() == 1


def test_private_views_are_their_owners_and_only_owner_or_admin_edit(agent, supervisor, admin_user):
    mine = saved_views.save_view(
        owner=agent, name="Mis urgentes", shared=False, filters=one("priority", "eq", "urgent")
    )
    shared = saved_views.save_view(owner=agent, name="Del equipo", shared=True, filters={})
    other = saved_views.save_view(
        owner=supervisor, name="Privada de Jorge", shared=False, filters={}
    )
    assert mine.filters["conditions"][0]["value"] == "urgent"

    assert [v.name for v in saved_views.views_for(agent)] == ["Del equipo", "Mis urgentes"]
    assert [v.name for v in saved_views.views_for(supervisor)] == ["Del equipo", "Privada de Jorge"]
    with pytest.raises(SavedView.DoesNotExist):
        saved_views.get_view(user=supervisor, view_id=mine.pk)
    assert saved_views.get_view(user=supervisor, view_id=shared.pk) == shared

    # A shared view is seen by everyone but changed only by its owner or an admin.
    with pytest.raises(PermissionDenied):
        saved_views.save_view(
            owner=supervisor, name="Mía ahora", shared=True, filters={}, view=shared
        )
    with pytest.raises(PermissionDenied):
        saved_views.delete_view(view=shared, by=supervisor)
    shared.refresh_from_db()
    assert shared.name == "Del equipo"

    renamed = saved_views.save_view(
        owner=admin_user, name="Del equipo (revisada)", shared=True, filters={}, view=shared
    )
    assert renamed.owner == agent and renamed.name == "Del equipo (revisada)"
    saved_views.delete_view(view=other, by=admin_user)
    saved_views.delete_view(view=mine, by=agent)
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Del equipo (revisada)"]


def test_describe_reads_the_conditions(world):
    text = saved_views.describe(
        {
            "match": "all",
            "conditions": [
                {"field": "priority", "op": "in", "value": ["high", "urgent"]},
                {"field": "owner", "op": "eq", "value": "me"},
                {"field": "closed_at", "op": "empty", "value": None},
            ],
        }
    )
    assert text[0].startswith("Prioridad es alguno de Alta")
    assert text[1] == "Propietario es igual a yo"
    assert text[2] == "Fecha de cierre está vacío"


# --- compile_filters against a pure-Python reading of the same conditions -----------------


def _py_condition(ticket: Ticket, labels: dict[int, list], condition: dict, user) -> bool:
    spec = saved_views.FIELDS[condition["field"]]
    op, value = condition["op"], condition["value"]
    if spec.kind == "label":
        mine = labels.get(ticket.pk, [])
        label_ids = {lb.pk for lb in mine}
        return {
            "eq": lambda: value in label_ids,
            "ne": lambda: value not in label_ids,
            "in": lambda: bool(label_ids & set(value or [])),
            "contains": lambda: any(str(value).lower() in lb.name.lower() for lb in mine),
            "empty": lambda: not label_ids,
            "not_empty": lambda: bool(label_ids),
        }[op]()
    current = getattr(ticket, spec.column)
    if spec.kind == "date":
        if op == "empty":
            return current is None
        if op == "not_empty":
            return current is not None
        if current is None:
            return False
        days = [datetime.date.fromisoformat(v) for v in saved_views.as_list(value)]
        start, end = days[0], days[-1]
        if op == "before":
            return current < day_start(start)
        if op == "after":
            return current >= day_start(end, 1)
        return day_start(start) <= current < day_start(end, 1)
    if spec.kind == "text":
        return {
            "eq": lambda: current.lower() == value.lower(),
            "ne": lambda: current.lower() != value.lower(),
            "contains": lambda: value.lower() in current.lower(),
            "empty": lambda: current == "",
            "not_empty": lambda: current != "",
        }[op]()
    if spec.kind == "bool":
        return current == saved_views._bool(value) if isinstance(value, str) else current == value
    if op == "empty":
        return current in (None, "")
    if op == "not_empty":
        return current not in (None, "")

    def me(v):
        return user.pk if v == "me" else v

    if op == "eq":
        return current == me(value)
    if op == "ne":
        return current != me(value)
    return current in [me(v) for v in value]


def _py_filter(tickets, labels, filters, user) -> set[int]:
    conditions = filters["conditions"]
    combine = all if filters["match"] == "all" else any
    return {
        t.pk
        for t in tickets
        if not conditions or combine(_py_condition(t, labels, c, user) for c in conditions)
    }


def _conditions(world, agent):
    t = world["t"]
    owners = st.sampled_from(["me", agent.pk, t[2].owner_id])
    stages = st.sampled_from(sorted({x.stage_id for x in t}))
    label_ids = st.sampled_from([world["reclamo"].pk, world["vip"].pk])
    # The tickets' own days (and their neighbours), so the day boundaries are exercised.
    days = st.sampled_from([-1, 0, 1, 2, 3, 4, 5, 10, 11]).map(
        lambda n: str(TODAY - datetime.timedelta(days=n))
    )
    words = st.sampled_from(["reclamo", "RECLAMO", "consulta sin cifras", "de", "placa", "zzz"])

    def cond(field, ops, values):
        return st.fixed_dictionaries(
            {"field": st.just(field), "op": st.sampled_from(ops), "value": values}
        )

    def dated(field, nullable):
        ops = ["eq", "before", "after"] + (["empty", "not_empty"] if nullable else [])
        single = cond(field, ops, days)
        between = (
            st.tuples(days, days)
            .map(sorted)
            .map(lambda pair: {"field": field, "op": "between", "value": list(pair)})
        )
        return single | between

    return st.one_of(
        cond("name", ["eq", "ne", "contains", "empty", "not_empty"], words),
        cond("description", ["contains", "empty", "not_empty"], st.just("renovacion")),
        cond("priority", ["eq", "ne"], st.sampled_from(["low", "medium", "high", "urgent"])),
        cond(
            "priority",
            ["in"],
            st.lists(st.sampled_from(["low", "high", "urgent"]), min_size=1, max_size=3),
        ),
        cond("owner", ["eq", "ne", "empty", "not_empty"], owners),
        cond("owner", ["in"], st.lists(owners, min_size=1, max_size=3)),
        cond("stage", ["eq", "ne"], stages),
        cond("label", ["eq", "ne", "empty", "not_empty"], label_ids),
        cond("label", ["in"], st.lists(label_ids, min_size=1, max_size=2)),
        cond("label", ["contains"], st.sampled_from(["recl", "VIP", "nada"])),
        cond("sla_state", ["eq", "ne", "empty", "not_empty"], st.sampled_from(["ok", "breached"])),
        cond("customer_update_overdue", ["eq"], st.booleans()),
        dated("created_at", False),
        dated("last_activity_at", False),
        dated("closed_at", True),
        dated("escalated_at", True),
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_compile_filters_agrees_with_python(world, agent, data):
    tickets = list(Ticket.objects.all())
    labels = {t.pk: list(t.labels.all()) for t in tickets}
    filters = {
        "match": data.draw(st.sampled_from(["all", "any"])),
        "conditions": data.draw(st.lists(_conditions(world, agent), min_size=0, max_size=3)),
    }
    found = _match(agent, filters)
    assert len(found) == len(set(found))
    cleaned = saved_views.clean_filters(filters)
    assert set(found) == _py_filter(tickets, labels, cleaned, agent)
