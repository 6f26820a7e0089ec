"""The comments tray: replies (public and private), hide, handled — against a local Graph API —
with the visibility of conversations, in the UI and the API."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.connectors.tests.meta_graph import meta_channel, start_graph
from atiende.inbox import comments
from atiende.inbox.models import CommentStatus, Conversation, Message, SocialComment
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def graph():
    graph, server = start_graph()
    yield graph
    server.shutdown()
    server.server_close()


@pytest.fixture
def team(db):
    return TeamFactory(name="Redes")


@pytest.fixture
def team_agent(team):
    agent = UserFactory(username="redes", display_name="Sofía Duarte")
    team.members.add(agent)
    return agent


@pytest.fixture
def outsider(db):
    agent = UserFactory(username="otro", display_name="Pablo Otro")
    TeamFactory(name="Cobranza").members.add(agent)
    return agent


@pytest.fixture
def messenger(graph, team):
    return meta_channel("messenger", graph, team=team)


@pytest.fixture
def instagram(graph, team):
    return meta_channel("instagram", graph, team=team)


def make_comment(channel, external_id="456_789", **kwargs):
    kwargs.setdefault("body", "¿Tienen talle M?")
    kwargs.setdefault("author_id", "2400000000000001")
    kwargs.setdefault("author_name", "Lucía Benítez")
    kwargs.setdefault("post_id", "1001_456")
    kwargs.setdefault("created_at", timezone.now())
    return comments.receive_comment(channel=channel, external_id=external_id, **kwargs)


def test_receive_comment_is_idempotent_and_an_edit_updates_the_text(messenger):
    first = make_comment(messenger)
    assert make_comment(messenger) is None
    make_comment(messenger, body="¿Tienen talle L?", edited=True)
    first.refresh_from_db()
    assert first.body == "¿Tienen talle L?" and SocialComment.objects.count() == 1


def test_public_reply_facebook_and_instagram(graph, messenger, instagram, team_agent):
    fb = make_comment(messenger)
    comments.reply_publicly(comment=fb, by=team_agent, text="¡Sí! Te escribimos.")
    call = graph.calls("POST", "/456_789/comments")[0]
    assert call.json == {"message": "¡Sí! Te escribimos."}
    fb.refresh_from_db()
    assert fb.status == CommentStatus.REPLIED and fb.reply_external_id.startswith("reply_")
    assert fb.handled_by == team_agent
    ig = make_comment(instagram, "1786", author_name="carla.ruiz", post_id="1790")
    comments.reply_publicly(comment=ig, by=team_agent, text="¡Gracias!")
    assert graph.calls("POST", "/1786/replies")[0].json == {"message": "¡Gracias!"}


def test_private_reply_sends_by_comment_id_and_lands_in_the_dm_thread(graph, messenger, team_agent):
    comment = make_comment(messenger)
    graph.reply(
        "POST",
        "/1001/messages",
        200,
        {"recipient_id": "2400000000000001", "message_id": "m_private_1"},
    )
    comments.reply_privately(comment=comment, by=team_agent, text="Te paso los precios por acá")
    call = graph.calls("POST", "/1001/messages")[0]
    assert call.json == {
        "recipient": {"comment_id": "456_789"},
        "message": {"text": "Te paso los precios por acá"},
    }
    comment.refresh_from_db()
    assert comment.private_reply_sent and comment.status == CommentStatus.REPLIED
    message = Message.objects.get(external_id="m_private_1")
    conversation = message.conversation
    assert conversation.recipient == "2400000000000001"
    assert conversation.contact == comment.contact
    # Meta allows one private reply per comment.
    with pytest.raises(comments.ValidationError):
        comments.reply_privately(comment=comment, by=team_agent, text="Otra vez")
    # The customer answers by DM: same conversation.
    from atiende.connectors.base import InboundMessage, Sender
    from atiende.inbox import services

    services.receive_message(
        InboundMessage(
            channel_id=messenger.pk,
            external_id="m_in_2",
            sender=Sender(external_id="2400000000000001"),
            body="Gracias",
        )
    )
    assert Conversation.objects.count() == 1


def test_private_reply_after_seven_days_is_refused_in_spanish(messenger, team_agent):
    old = make_comment(messenger, created_at=timezone.now() - datetime.timedelta(days=8))
    with pytest.raises(comments.ValidationError) as exc:
        comments.reply_privately(comment=old, by=team_agent, text="Hola")
    assert "7 días" in exc.value.messages[0]


def test_hide_facebook_and_instagram_and_mark_handled(graph, messenger, instagram, team_agent):
    fb = make_comment(messenger)
    comments.hide(comment=fb, by=team_agent)
    assert graph.calls("POST", "/456_789")[0].json == {"is_hidden": True}
    ig = make_comment(instagram, "1786")
    comments.hide(comment=ig, by=team_agent)
    assert graph.calls("POST", "/1786")[0].json == {"hide": True}
    assert set(SocialComment.objects.values_list("status", flat=True)) == {CommentStatus.HIDDEN}
    other = make_comment(messenger, "456_999")
    comments.mark_handled(comment=other, by=team_agent)
    other.refresh_from_db()
    assert other.status == CommentStatus.HANDLED
    assert len([r for r in graph.requests if r.method == "POST"]) == 2  # none for "handled"


def test_meta_error_is_a_spanish_validation_error_and_nothing_changes(graph, messenger, team_agent):
    comment = make_comment(messenger)
    graph.reply(
        "POST", "/456_789/comments", 400, {"error": {"message": "Comment deleted", "code": 100}}
    )
    with pytest.raises(comments.ValidationError) as exc:
        comments.reply_publicly(comment=comment, by=team_agent, text="Hola")
    assert exc.value.messages[0].startswith("Meta rechazó la acción")
    comment.refresh_from_db()
    assert comment.status == CommentStatus.NEW


def test_agent_of_another_team_gets_403_in_ui_and_api(
    client, graph, messenger, outsider, api_token
):
    comment = make_comment(messenger)
    with pytest.raises(comments.PermissionDenied):
        comments.hide(comment=comment, by=outsider)
    client.force_login(outsider)
    response = client.post(f"/inbox/comentarios/{comment.pk}/ocultar/")
    assert response.status_code == 403
    headers = api_token(outsider)
    assert client.post(f"/api/v1/comments/{comment.pk}/hide", headers=headers).status_code == 403
    listing = client.get("/api/v1/comments", headers=headers).json()
    assert listing["count"] == 0
    page = client.get("/inbox/comentarios/?estado=todos")
    assert "¿Tienen talle M?" not in page.content.decode()
    assert not graph.calls("POST", "/456_789")


def test_api_list_reply_hide_handled(client, graph, messenger, team_agent, api_token):
    comment = make_comment(messenger)
    second = make_comment(messenger, "456_790", body="Precio?")
    headers = api_token(team_agent)
    listing = client.get("/api/v1/comments?status=new", headers=headers).json()
    assert [item["id"] for item in listing["items"]] == [second.pk, comment.pk]
    assert listing["items"][0]["post_caption"] == "¡Promo de verano!"
    response = client.post(
        f"/api/v1/comments/{comment.pk}/reply",
        data=json.dumps({"text": "¡Hola!", "private": False}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["status"] == "replied"
    empty = client.post(
        f"/api/v1/comments/{second.pk}/reply",
        data=json.dumps({"text": "  "}),
        content_type="application/json",
        headers=headers,
    )
    assert empty.status_code == 422 and empty.json()["detail"]["text"]
    hidden = client.post(f"/api/v1/comments/{second.pk}/hide", headers=headers)
    assert hidden.json()["status"] == "hidden"
    handled = client.post(f"/api/v1/comments/{comment.pk}/handled", headers=headers)
    assert handled.json()["status"] == "handled"
    assert client.get("/api/v1/comments?status=raro", headers=headers).status_code == 422


def test_tray_page_lists_newest_first_with_actions_and_constant_queries(
    client, graph, messenger, instagram, team_agent
):
    client.force_login(team_agent)
    make_comment(messenger, body="Primer comentario")
    client.get("/inbox/comentarios/")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/inbox/comentarios/")
    for index in range(6):
        channel = instagram if index % 2 else messenger
        make_comment(channel, f"c{index}", body=f"Comentario {index}", post_id=f"p{index}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/inbox/comentarios/")
    assert len(many) == len(few)
    html = response.content.decode()
    assert html.index("Comentario 5") < html.index("Comentario 0") < html.index("Primer")
    assert "Responder público" in html and "Responder por privado" in html
    assert "Ocultar" in html and "Marcar atendido" in html


def test_tray_actions_through_the_page_with_htmx_and_errors(client, graph, messenger, team_agent):
    comment = make_comment(messenger)
    client.force_login(team_agent)
    url = f"/inbox/comentarios/{comment.pk}/publico/"
    empty = client.post(url, {"text": ""}, headers={"HX-Request": "true"})
    assert "Escribe una respuesta." in empty.content.decode()
    done = client.post(url, {"text": "¡Hola!"}, headers={"HX-Request": "true"})
    assert "Respuesta pública" in done.content.decode()
    response = client.post(f"/inbox/comentarios/{comment.pk}/atendido/")
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == CommentStatus.HANDLED
    inbox = client.get("/inbox/").content.decode()
    assert 'href="/inbox/comentarios/"' in inbox


def test_inbox_badge_counts_new_comments_and_the_row_partial(client, messenger, team_agent):
    first = make_comment(messenger)
    make_comment(messenger, external_id="456_790", body="Otro")
    client.force_login(team_agent)
    html = client.get("/inbox/").content.decode()
    assert 'data-new-comments="2"' in html and "2 comentarios nuevos" in html
    with CaptureQueriesContext(connection) as one:
        response = client.get(f"/inbox/comentarios/{first.pk}/")
    assert response.status_code == 200
    assert f'id="comment-{first.pk}"' in response.content.decode()
    for n in range(5):
        make_comment(messenger, external_id=f"456_8{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/inbox/comentarios/{first.pk}/")
    assert len(many) == len(one)
    tray = client.get("/inbox/comentarios/").content.decode()
    assert "data-row-url" in tray and "inbox.comment" in tray


def test_row_partial_is_404_for_another_team(client, messenger, outsider):
    comment = make_comment(messenger)
    client.force_login(outsider)
    assert client.get(f"/inbox/comentarios/{comment.pk}/").status_code == 404
