"""Conversations on the contact profile: the timeline, "preferencia de canales" and merges."""

from atiende.activities.selectors import contact_activity_stats, contact_timeline
from atiende.contacts import services as contact_services
from atiende.contacts.models import Contact
from atiende.inbox.models import Conversation, Message
from atiende.inbox.tests.inbox_data import make_channel, receive


def test_a_conversation_appears_on_the_contact_timeline(db, admin_user):
    channel = make_channel(name="Chat web")
    message = receive(channel, "v-1", "Hola, ¿cotizan autos?", name="Rosa Benítez")
    contact = message.conversation.contact

    items = contact_timeline(contact=contact, kinds={"conversation"})

    assert [item.obj.pk for item in items] == [message.conversation_id]
    assert items[0].template == "inbox/items/_conversation.html"


def test_the_profile_activity_tab_renders_the_conversation(client, admin_user):
    channel = make_channel(name="Chat web")
    message = receive(channel, "v-2", "Necesito mi póliza", name="Rosa Benítez")
    client.force_login(admin_user)

    response = client.get(f"/contactos/{message.conversation.contact_id}/actividad/")

    assert response.status_code == 200
    assert "Conversación por Chat web" in response.content.decode()
    assert f"/inbox/{message.conversation_id}/" in response.content.decode()


def test_channel_preference_counts_inbound_messages_per_channel(db):
    web = make_channel(name="Chat web")
    whatsapp = make_channel(name="WhatsApp Ventas", kind="whatsapp")
    first = receive(web, "v-3", "Hola", phone="0981 222333", name="Rosa Benítez")
    receive(web, "v-3", "¿Siguen ahí?")
    receive(whatsapp, "595981222333", "Hola por WhatsApp", phone="595981222333")
    contact = first.conversation.contact

    assert contact_activity_stats(contact=contact)["channels"] == {
        "Chat web": 2,
        "WhatsApp Ventas": 1,
    }


def test_merge_moves_conversations_only_when_chosen(db, admin_user):
    channel = make_channel(name="Chat web")
    kept = receive(channel, "v-4", "Hola", name="Rosa Benítez").conversation.contact
    duplicate_conversation = receive(channel, "v-5", "Hola de nuevo", name="Rosa B").conversation
    duplicate = duplicate_conversation.contact

    contact_services.merge_contacts(
        survivor=kept, duplicate=duplicate, move={"conversations"}, by=admin_user
    )

    duplicate_conversation.refresh_from_db()
    assert duplicate_conversation.contact_id == kept.pk
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert Message.objects.filter(conversation__contact=kept).count() == 2


def test_merge_without_conversations_leaves_them_with_the_removed_contact(db, admin_user):
    channel = make_channel(name="Chat web")
    kept = receive(channel, "v-6", "Hola", name="Rosa Benítez").conversation.contact
    duplicate = receive(channel, "v-7", "Hola de nuevo", name="Rosa B").conversation.contact

    contact_services.merge_contacts(survivor=kept, duplicate=duplicate, move=set(), by=admin_user)

    assert Conversation.objects.filter(contact=kept).count() == 1
    assert not Conversation.objects.filter(contact_id=duplicate.pk).exists()
