"""A whole chat scenario through the official twilio-python (issue 17): a conversation, two chat
participants and one SMS participant, messages, the read horizon, user conversations and
leaving, with the webhooks checked by the official RequestValidator."""

import json
import queue

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from conftest import MAIN_TOKEN


def test_chat_scenario(client, receiver):
    base, got = receiver
    conv = client.conversations.v1
    conv.configuration.webhooks().update(
        post_webhook_url=f"{base}/chat", method="POST", target="webhook",
        filters=["onConversationAdded", "onParticipantAdded", "onMessageAdded"])

    c = conv.conversations.create(friendly_name="Py chat", unique_name="py-chat",
                                  x_twilio_webhook_enabled="true")
    assert c.sid.startswith("CH") and c.state == "active" and c.unique_name == "py-chat"
    assert conv.conversations("py-chat").fetch().sid == c.sid

    alice = conv.conversations(c.sid).participants.create(identity="py-alice", x_twilio_webhook_enabled="true")
    bob = conv.conversations(c.sid).participants.create(identity="py-bob")
    sms = conv.conversations(c.sid).participants.create(
        messaging_binding_address="+15558675310", messaging_binding_proxy_address="+15017122661")
    assert alice.identity == "py-alice" and alice.messaging_binding is None
    assert sms.messaging_binding == {"type": "sms", "address": "+15558675310", "proxy_address": "+15017122661"}
    # The participants' identities became users.
    assert conv.users("py-bob").fetch().identity == "py-bob"
    with pytest.raises(TwilioRestException) as e:
        conv.conversations(c.sid).participants.create(identity="py-alice")
    assert (e.value.status, e.value.code) == (409, 50433)

    first = conv.conversations(c.sid).messages.create(author="py-alice", body="hi bob",
                                                      x_twilio_webhook_enabled="true")
    assert first.index == 0 and first.participant_sid == alice.sid
    for n in range(3):
        conv.conversations(c.sid).messages.create(author="py-bob", body=f"reply {n}")
    newest = conv.conversations(c.sid).messages.list(order="desc", limit=2)
    assert [m.index for m in newest] == [3, 2]
    assert [m.index for m in conv.conversations(c.sid).messages.list(page_size=2)] == [0, 1, 2, 3]

    conv.conversations(c.sid).participants(alice.sid).update(last_read_message_index=1)
    mine = conv.users("py-alice").user_conversations.list()
    assert [(u.conversation_sid, u.unread_messages_count) for u in mine] == [(c.sid, 2)]
    uc = conv.users("py-alice").user_conversations(c.sid).update(notification_level="muted",
                                                                   last_read_message_index=3)
    assert uc.notification_level == "muted" and uc.unread_messages_count == 0
    found = conv.participant_conversations.list(identity="py-bob")
    assert [p.conversation_sid for p in found] == [c.sid]

    # Leave: the participant goes, the user stays.
    assert conv.users("py-alice").user_conversations(c.sid).delete() is True
    assert conv.users("py-alice").user_conversations.list() == []
    assert len(conv.conversations(c.sid).participants.list()) == 2

    validator = RequestValidator(MAIN_TOKEN)
    events = []
    for _ in range(3):
        path, headers, params = got.get(timeout=15)
        assert validator.validate(f"{base}{path}", dict(params), headers.get("X-Twilio-Signature"))
        events.append(dict(params))
    assert [e["EventType"] for e in events] == ["onConversationAdded", "onParticipantAdded", "onMessageAdded"]
    assert events[2]["Body"] == "hi bob" and events[2]["ParticipantSid"] == alice.sid
    with pytest.raises(queue.Empty):
        got.get(timeout=1)


def test_conversation_with_participants_and_closing(client):
    conv = client.conversations.v1
    c = conv.conversation_with_participants.create(
        friendly_name="Group", participant=[json.dumps({"identity": "py-carol"}),
                                            json.dumps({"identity": "py-dan"})])
    assert c.sid.startswith("CH")
    assert {p.identity for p in conv.conversations(c.sid).participants.list()} == {"py-carol", "py-dan"}
    closed = conv.conversations(c.sid).update(state="closed")
    assert closed.state == "closed"
    with pytest.raises(TwilioRestException) as e:
        conv.conversations(c.sid).messages.create(body="late")
    assert (e.value.status, e.value.code) == (400, 50377)
    assert conv.conversations(c.sid).delete() is True
