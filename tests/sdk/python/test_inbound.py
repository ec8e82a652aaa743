"""Issue 19 through the official twilio-python for the Twilio-side calls: a "reply YES" flow run
by a test user, the reply played with a plain HTTP call to /_localtwilio/InboundMessages; and an
SMS participant and a chat participant talking in one conversation."""

import base64
import json
import urllib.parse
import urllib.request

from conftest import MAIN_SID, MAIN_TOKEN

CONTACT = "+15551230001"
NUMBER = "+15557650000"

DEFINITION = {
    "description": "reply YES",
    "initial_state": "Trigger",
    "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "ask"},
                         {"event": "incomingRequest", "next": "ask"}]},
        {"name": "ask", "type": "send-and-wait-for-reply",
         "properties": {"body": "Reply YES to confirm", "timeout": "3600"},
         "transitions": [{"event": "incomingMessage", "next": "check"},
                         {"event": "timeout"}, {"event": "deliveryFailure"}]},
        {"name": "check", "type": "split-based-on",
         "properties": {"input": "{{widgets.ask.inbound.Body}}"},
         "transitions": [
             {"event": "noMatch", "next": "no"},
             {"event": "match", "next": "yes", "conditions": [
                 {"friendly_name": "yes", "arguments": ["{{widgets.ask.inbound.Body}}"],
                  "type": "equal_to", "value": "yes"}]}]},
        {"name": "yes", "type": "send-message", "properties": {"body": "Confirmed"},
         "transitions": [{"event": "sent"}, {"event": "failed"}]},
        {"name": "no", "type": "send-message", "properties": {"body": "Declined"},
         "transitions": [{"event": "sent"}, {"event": "failed"}]},
    ],
}


def play_inbound(base_url, sender, body):
    """The contact's phone: a plain form POST with the account's credentials."""
    data = urllib.parse.urlencode({"From": sender, "To": NUMBER, "Body": body}).encode()
    request = urllib.request.Request(f"{base_url}/_localtwilio/InboundMessages", data=data)
    auth = base64.b64encode(f"{MAIN_SID}:{MAIN_TOKEN}".encode()).decode()
    request.add_header("Authorization", f"Basic {auth}")
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
        return json.load(response)


def test_reply_yes_flow_resumed_by_an_inbound_reply(client, base_url):
    flows = client.studio.v2.flows
    flow = flows.create(friendly_name="confirm", status="draft", definition=DEFINITION)
    flows(flow.sid).test_users().update(test_users=[CONTACT])
    executions = flows(flow.sid).executions
    execution = executions.create(to=CONTACT, from_=NUMBER)
    assert execution.status == "active"
    assert [m.body for m in client.messages.list(to=CONTACT)] == ["Reply YES to confirm"]

    received = play_inbound(base_url, CONTACT, "YES")
    assert received["direction"] == "inbound"
    assert received["routed_to"]["kind"] == "execution-resumed"
    assert received["routed_to"]["execution_sid"] == execution.sid

    assert executions(execution.sid).fetch().status == "ended"
    steps = executions(execution.sid).steps.list()
    assert [(s.name, s.transitioned_from, s.transitioned_to) for s in steps] == [
        ("incomingRequest", "Trigger", "ask"),
        ("incomingMessage", "ask", "check"),
        ("match", "check", "yes"),
        ("sent", "yes", "Ended"),
    ]
    context = executions(execution.sid).execution_context().fetch().context
    assert context["widgets"]["ask"]["inbound"]["Body"] == "YES"
    assert context["widgets"]["ask"]["inbound"]["MessageSid"] == received["sid"]
    assert [m.body for m in client.messages.list(to=CONTACT)] == ["Confirmed", "Reply YES to confirm"]
    inbound = client.messages(received["sid"]).fetch()
    assert (inbound.direction, inbound.status, inbound.from_) == ("inbound", "received", CONTACT)


def test_an_sms_participant_and_a_chat_participant_talk(client, base_url):
    sms_contact = "+15551230002"
    conversations = client.conversations.v1.conversations
    conversation = conversations.create(friendly_name="support")
    participants = conversations(conversation.sid).participants
    participants.create(identity="alice")
    sms = participants.create(
        messaging_binding_address=sms_contact, messaging_binding_proxy_address=NUMBER
    )
    messages = conversations(conversation.sid).messages
    hello = messages.create(author="alice", body="How can I help?")
    receipts = messages(hello.sid).delivery_receipts.list()
    assert [r.participant_sid for r in receipts] == [sms.sid]
    sent = client.messages.list(to=sms_contact)
    assert [(m.from_, m.body) for m in sent] == [(NUMBER, "How can I help?")]
    assert receipts[0].channel_message_sid == sent[0].sid

    received = play_inbound(base_url, sms_contact, "My order is late")
    assert received["routed_to"]["kind"] == "conversation"
    transcript = [(m.author, m.body) for m in messages.list()]
    assert transcript == [("alice", "How can I help?"), (sms_contact, "My order is late")]
    assert messages.list()[1].participant_sid == sms.sid
