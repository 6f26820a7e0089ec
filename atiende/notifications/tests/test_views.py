"""The bell's panel, the full page, opening one, marking read, and the e-mail preferences page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.notifications import services
from atiende.notifications.models import Kind, Notification, NotificationPreference
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make(user, n=1, kind=Kind.ASSIGNMENT, **kwargs):
    for i in range(n):
        services.notify(
            recipients=[user], kind=kind, title=f"{kind} {i}", url=f"/tickets/{i}/", **kwargs
        )
    return Notification.objects.filter(recipient=user, kind=kind).order_by("-id")


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


def test_the_bell_badge_shows_the_unread_count(logged, agent):
    make(agent, 3)
    services.mark_read(user=agent, ids=[Notification.objects.first().pk])
    html = logged.get("/notificaciones/").content.decode()
    assert 'id="bell-count" data-unread="2"' in html
    assert "2 notificaciones sin leer" in html


def test_the_panel_lists_mine_newest_first_with_unread_styling(logged, agent, supervisor):
    make(agent, 2)
    make(supervisor, 1, kind=Kind.ESCALATION)
    services.mark_read(user=agent, ids=[Notification.objects.filter(recipient=agent).last().pk])
    response = logged.get("/notificaciones/panel/")
    html = response.content.decode()
    assert html.index("assignment 1") < html.index("assignment 0")
    assert 'data-kind="escalation"' not in html
    assert html.count("is-unread") == 1
    assert "Marcar todas como leídas" in html
    assert 'hx-swap-oob="true"' in html  # the badge follows the panel


def test_panel_filters_by_kind_and_state(logged, agent):
    make(agent, 2)
    (mention,) = make(agent, 1, kind=Kind.MENTION)
    services.mark_read(user=agent, ids=[mention.pk])
    html = logged.get("/notificaciones/panel/?tipo=mention").content.decode()
    assert "mention 0" in html and 'data-kind="assignment"' not in html
    html = logged.get("/notificaciones/panel/?estado=unread").content.decode()
    assert "mention 0" not in html and "assignment 0" in html
    html = logged.get("/notificaciones/panel/?estado=read&tipo=assignment").content.decode()
    assert "Ninguna notificación con estos filtros." in html


@pytest.mark.parametrize("path", ["/notificaciones/panel/", "/notificaciones/"])
def test_lists_run_a_constant_number_of_queries(logged, agent, supervisor, path):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert logged.get(path).status_code == 200
        return len(queries)

    make(agent, 2, actor=supervisor)
    few = count()
    make(agent, 20, kind=Kind.MENTION, actor=supervisor)
    assert count() == few


def test_the_page_paginates_and_filters(logged, agent):
    make(agent, 30)
    make(agent, 1, kind=Kind.SLA_BREACH)
    response = logged.get("/notificaciones/")
    assert response.status_code == 200
    assert len(response.context["items"]) == 25
    assert "Página 1 de 2" in response.content.decode()
    response = logged.get("/notificaciones/?tipo=sla_breach")
    assert [n.kind for n in response.context["items"]] == ["sla_breach"]
    assert "tipo=sla_breach" in response.context["query"]


def test_opening_one_marks_it_read_and_goes_to_its_url(logged, agent):
    (n,) = make(agent)
    response = logged.get(f"/notificaciones/{n.pk}/abrir/")
    assert response.status_code == 302 and response["Location"] == "/tickets/0/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_nobody_opens_another_users_notification(logged, supervisor):
    (n,) = make(supervisor)
    assert logged.get(f"/notificaciones/{n.pk}/abrir/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read_from_the_panel(logged, agent, supervisor):
    make(agent, 3)
    make(supervisor, 1)
    response = logged.post("/notificaciones/leidas/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-unread="0"' in response.content.decode()
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=supervisor, read_at__isnull=True).count() == 1


def test_mark_read_of_another_users_is_forbidden(logged, supervisor):
    (n,) = make(supervisor)
    response = logged.post("/notificaciones/leidas/", {"id": [n.pk]})
    assert response.status_code == 403


def test_anonymous_is_sent_to_login(client):
    assert client.get("/notificaciones/panel/").status_code == 302


def test_preferences_page_saves_the_switches(logged, agent):
    html = logged.get("/ajustes/notificaciones/").content.decode()
    assert html.count('role="switch"') == len(Kind.values)
    assert "Respuesta del cliente" in html and "checked" not in html
    response = logged.post("/ajustes/notificaciones/", {"by_email": ["sla_breach", "mention"]})
    assert response.status_code == 302
    chosen = set(
        NotificationPreference.objects.filter(user=agent, by_email=True).values_list(
            "kind", flat=True
        )
    )
    assert chosen == {"sla_breach", "mention"}
    html = logged.get("/ajustes/notificaciones/").content.decode()
    assert html.count("checked") == 2
    logged.post("/ajustes/notificaciones/", {})
    assert not NotificationPreference.objects.filter(user=agent, by_email=True).exists()


def test_preferences_are_in_the_settings_menu(logged):
    html = logged.get("/ajustes/notificaciones/").content.decode()
    assert 'href="/ajustes/notificaciones/"' in html


def test_others_are_not_shown(logged, agent):
    make(UserFactory(username="otro"), 2)
    assert list(logged.get("/notificaciones/").context["items"]) == []
