"""The board: one column per stage with its count and a bounded list of cards, the list's filters,
a fixed number of queries, and the change-stage endpoint behind drag-and-drop and "Mover a…"
(refusing Tech Issues without a complete escalation, with the way to the escalation form)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.tickets import selectors
from atiende.tickets.models import Pipeline, Stage, Ticket
from atiende.tickets.tests.factories import make_ticket, stage
from atiende.users.models import Team

pytestmark = pytest.mark.django_db

URL = "/tickets/tablero/"
JSON = {"HTTP_ACCEPT": "application/json"}


def columns(response) -> dict[str, list[str]]:
    """Stage name → the ticket numbers of its cards, in order."""
    html = response.content.decode()
    out = {}
    for block in html.split('<section class="board-col"')[1:]:
        title = re.search(r'class="board-col-title"[^>]*>([^<]+)<', block).group(1)
        out[title] = re.findall(r'class="ticket-card-number font-monospace"[^>]*>(T-\d+)<', block)
    return out


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    found = re.findall(r'class="board-col-title"[^>]*>([^<]+)<.*?data-count="(\d+)"', html, re.S)
    return {name: int(n) for name, n in found}


def cards(board: dict[str, list[str]]) -> list[str]:
    return [number for numbers in board.values() for number in numbers]


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


def test_one_column_per_stage_in_order_with_counts_and_meaning(logged, agent):
    new = make_ticket(by=agent, name="Nuevo caso")
    waiting = make_ticket(by=agent, stage_key="waiting_on_customer")
    closed = make_ticket(by=agent, stage_key="closed")
    response = logged.get(URL)
    assert response.status_code == 200
    board = columns(response)
    names = [s.label for s in selectors.default_pipeline().stages.order_by("position")]
    assert list(board) == names and len(names) == 8
    assert board[stage("new").label] == [new.number]
    assert board[stage("waiting_on_customer").label] == [waiting.number]
    assert board[stage("closed").label] == [closed.number]
    assert counts(response)[stage("new").label] == 1
    html = response.content.decode()
    assert stage("tech_issues").meaning in html  # the meaning as a tooltip
    assert f'href="/tickets/{new.pk}/"' in html
    assert "Mover a…" in html and 'href="/tickets/"' in html  # switch back to the list


def test_columns_are_bounded_with_a_link_to_see_all(logged, agent, monkeypatch):
    monkeypatch.setattr(selectors, "BOARD_COLUMN_LIMIT", 3)
    for _ in range(5):
        make_ticket(by=agent)
    response = logged.get(URL)
    assert len(columns(response)[stage("new").label]) == 3
    assert counts(response)[stage("new").label] == 5
    html = response.content.decode()
    assert "Ver los 5 en la lista" in html
    assert f"stage={stage('new').pk}" in html


def test_board_uses_the_list_filters_and_the_chosen_pipeline(logged, agent):
    high = make_ticket(by=agent, priority="high", owner=agent)
    make_ticket(by=agent, priority="low")
    board = columns(logged.get(URL, {"priority": "high"}))
    assert cards(board) == [high.number]
    board = columns(logged.get(URL, {"owner": "me"}))
    assert cards(board) == [high.number]
    board = columns(
        logged.get(URL, {"adv": "1", "c0_field": "priority", "c0_op": "ne", "c0_value": "high"})
    )
    assert high.number not in cards(board)

    other = Pipeline.objects.create(key="ventas", name="Ventas", position=5)
    Stage.objects.create(pipeline=other, key="open", name="Abierto", position=0)
    Stage.objects.create(pipeline=other, key="won", name="Ganado", position=1, is_closed=True)
    response = logged.get(URL, {"pipeline": other.pk})
    assert list(columns(response)) == ["Abierto", "Ganado"]
    assert "Pipeline de soporte" in response.content.decode()  # the chooser lists both


def test_board_queries_do_not_grow_with_tickets(logged, agent, supervisor):
    label = LabelFactory(name="VIP")
    team = Team.objects.create(name="Servicio")
    keys = ["new", "follow_up", "waiting_on_us", "closed"]

    def make(n):
        for i in range(n):
            ticket = make_ticket(
                by=agent,
                stage_key=keys[i % 4],
                owner=[agent, supervisor, None][i % 3],
                team=team if i % 2 else None,
                contact=make_contact(first_name=f"Cliente {i}") if i % 3 == 0 else None,
            )
            ticket.labels.add(label)

    def count_queries(params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert logged.get(URL, params).status_code == 200
        return len(ctx)

    screens = [{}, {"label": label.pk}, {"adv": "1", "c0_field": "label", "c0_op": "not_empty"}]
    make(5)
    few = [count_queries(p) for p in screens]
    make(25)
    many = [count_queries(p) for p in screens]
    assert few == many
    assert max(many) <= 22


# --- moving a card ------------------------------------------------------------------------


def move(client, ticket, target, **headers):
    return client.post(
        f"/tickets/tablero/{ticket.pk}/mover/",
        {"stage": target.pk, "next": "/tickets/tablero/?priority=high"},
        **headers,
    )


def test_moving_a_card_changes_its_stage(logged, agent):
    ticket = make_ticket(by=agent)
    response = move(logged, ticket, stage("follow_up"), **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "detail": f"{ticket.number} movido a «Seguimiento».",
        "ticket": ticket.pk,
        "stage": stage("follow_up").pk,
        "closed": False,
    }
    ticket.refresh_from_db()
    assert ticket.stage.key == "follow_up"
    response = move(logged, ticket, stage("closed"), **JSON)
    assert response.json()["closed"] is True
    assert Ticket.objects.get(pk=ticket.pk).closed_at is not None

    # Without JavaScript ("Mover a…" as a plain form): back to the board with a message.
    response = move(logged, ticket, stage("new"))
    assert response.status_code == 302
    assert response["Location"] == "/tickets/tablero/?priority=high"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{ticket.number} movido a «Nuevo»."
    ]


def test_tech_issues_without_escalation_is_refused_with_the_escalation_form(logged, agent):
    ticket = make_ticket(by=agent, stage_key="follow_up")
    tech = stage("tech_issues")
    response = move(logged, ticket, tech, **JSON)
    assert response.status_code == 422
    data = response.json()
    assert data["escalate_url"] == f"/tickets/{ticket.pk}/escalar/?stage={tech.pk}"
    assert "completa la escalación" in data["detail"] and "¿Qué ocurre?" in data["detail"]
    ticket.refresh_from_db()
    assert ticket.stage.key == "follow_up" and ticket.escalated_at is None

    response = move(logged, ticket, tech)
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/escalar/?stage={tech.pk}"
    assert Ticket.objects.get(pk=ticket.pk).stage.key == "follow_up"


def test_refusals_answer_json_and_change_nothing(logged, agent, supervisor):
    tech_team = Team.objects.create(name="Tech")
    guarded = make_ticket(by=supervisor, owner=supervisor, team=tech_team)
    response = move(logged, guarded, stage("follow_up"), **JSON)
    assert response.status_code == 403 and response.json()["detail"]
    assert Ticket.objects.get(pk=guarded.pk).stage.key == "new"

    free = make_ticket(by=agent)
    other = Pipeline.objects.create(key="ventas", name="Ventas")
    foreign = Stage.objects.create(pipeline=other, key="open", name="Abierto")
    response = move(logged, free, foreign, **JSON)
    assert response.status_code == 422 and "pipeline" in response.json()["detail"]
    assert "escalate_url" not in response.json()

    response = logged.post(f"/tickets/tablero/{free.pk}/mover/", {"stage": "x"}, **JSON)
    assert response.status_code == 404 and response.json() == {"detail": "El estado no existe."}
    response = logged.post("/tickets/tablero/999999/mover/", {"stage": stage("new").pk}, **JSON)
    assert response.status_code == 404
    assert logged.get(f"/tickets/tablero/{free.pk}/mover/").status_code == 405
    assert Ticket.objects.get(pk=free.pk).stage.key == "new"
