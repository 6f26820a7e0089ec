"""/api/v1/notifications: list with filters, mark read (own only), preferences."""

import pytest

from atiende.notifications import services
from atiende.notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


def make(user, kind=Kind.ASSIGNMENT, n=1):
    for i in range(n):
        services.notify(recipients=[user], kind=kind, title=f"{kind} {i}", url="/inbox/1/")


def test_list_with_filters_and_pages(api, agent, supervisor):
    make(agent, n=27)
    make(agent, Kind.MENTION)
    make(supervisor)
    body = api(agent, "get", "/notifications").json()
    assert (body["count"], body["unread"], len(body["items"])) == (28, 28, 25)
    first = body["items"][0]
    assert first["kind"] == "mention" and first["url"] == "/inbox/1/" and first["read_at"] is None
    assert len(api(agent, "get", "/notifications?page=2").json()["items"]) == 3
    assert api(agent, "get", "/notifications?kind=mention").json()["count"] == 1
    services.mark_read(user=agent, ids=[first["id"]])
    assert api(agent, "get", "/notifications?unread=true").json()["count"] == 27
    assert api(agent, "get", "/notifications?unread=false").json()["count"] == 1


def test_bad_filters_are_422(api, agent):
    assert api(agent, "get", "/notifications?kind=lottery").status_code == 422
    assert api(agent, "get", "/notifications?page=0").status_code == 422


def test_without_a_token_is_401(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read", {}, "application/json").status_code == 401


def test_mark_some_or_all_read(api, agent):
    make(agent, n=3)
    ids = list(Notification.objects.filter(recipient=agent).values_list("pk", flat=True))
    response = api(agent, "post", "/notifications/read", {"ids": ids[:1]})
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 2}
    assert api(agent, "post", "/notifications/read", {}).json() == {"marked": 2, "unread": 0}


def test_marking_another_users_is_403(api, agent, supervisor):
    make(supervisor)
    theirs = Notification.objects.get(recipient=supervisor)
    response = api(agent, "post", "/notifications/read", {"ids": [theirs.pk]})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_preferences_read_and_write(api, agent):
    body = api(agent, "get", "/notifications/preferences").json()
    assert body == {"by_email": {kind: False for kind in Kind.values}}
    response = api(agent, "put", "/notifications/preferences", {"by_email": {"sla_breach": True}})
    assert response.status_code == 200 and response.json()["by_email"]["sla_breach"] is True
    bad = api(agent, "put", "/notifications/preferences", {"by_email": {"nope": True}})
    assert bad.status_code == 422
