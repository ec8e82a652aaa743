"""Studio v2 Executions through the official twilio-python: a draft tested by a test user,
then published; steps, contexts, ending and deleting executions."""

import datetime

import pytest
from twilio.base.exceptions import TwilioRestException

TESTER = "+15550001000"
CUSTOMER = "+15550002000"
FROM = "+15557770000"


def definition(greeting):
    return {
        "description": "executions",
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {},
             "transitions": [{"event": "incomingRequest", "next": "vars"}]},
            {"name": "vars", "type": "set-variables",
             "properties": {"variables": [{"key": "who", "value": "{{flow.data.name | upcase}}"}]},
             "transitions": [{"event": "next", "next": "route"}]},
            {"name": "route", "type": "split-based-on", "properties": {"input": "{{flow.data.vip}}"},
             "transitions": [
                 {"event": "noMatch", "next": "ask"},
                 {"event": "match", "next": "reply", "conditions": [
                     {"friendly_name": "vip", "arguments": ["{{flow.data.vip}}"], "type": "equal_to",
                      "value": "yes"}]}]},
            {"name": "reply", "type": "send-message",
             "properties": {"body": greeting + " {{flow.variables.who}}"},
             "transitions": [{"event": "sent"}, {"event": "failed"}]},
            {"name": "ask", "type": "send-and-wait-for-reply",
             "properties": {"body": "Why?", "timeout": "3600"},
             "transitions": [{"event": "incomingMessage"}, {"event": "timeout"},
                             {"event": "deliveryFailure"}]},
        ],
    }


def test_draft_test_publish_with_steps_and_contexts(client):
    flows = client.studio.v2.flows
    flow = flows.create(friendly_name="exec flow", status="draft", definition=definition("Hi"))
    executions = flows(flow.sid).executions

    # A draft only runs for test users.
    with pytest.raises(TwilioRestException) as err:
        executions.create(to=CUSTOMER, from_=FROM, parameters={"name": "ann", "vip": "yes"})
    assert (err.value.status, err.value.code) == (404, 20404)
    flows(flow.sid).test_users().update(test_users=[TESTER])
    tested = executions.create(to=TESTER, from_=FROM, parameters={"name": "ann", "vip": "YES "})
    assert tested.sid.startswith("FN")
    assert (tested.status, tested.flow_version) == ("ended", 1)
    assert tested.contact_channel_address == TESTER
    assert isinstance(tested.date_created, datetime.datetime)

    steps = executions(tested.sid).steps.list()
    assert [(s.name, s.transitioned_from, s.transitioned_to) for s in steps] == [
        ("incomingRequest", "Trigger", "vars"),
        ("next", "vars", "route"),
        ("match", "route", "reply"),
        ("sent", "reply", "Ended"),
    ]
    assert [s.type for s in steps] == ["trigger", "set-variables", "split-based-on", "send-message"]
    step = executions(tested.sid).steps(steps[3].sid).fetch()
    assert step.execution_sid == tested.sid
    step_context = executions(tested.sid).steps(step.sid).step_context().fetch()
    assert step_context.context["outbound"]["Body"] == "Hi ANN"
    context = executions(tested.sid).execution_context().fetch()
    assert context.context["flow"]["variables"]["who"] == "ANN"
    assert context.context["contact"]["channel"]["address"] == TESTER
    assert context.context["flow"]["data"] == {"name": "ann", "vip": "YES "}
    # What the flow sent is a Message, read back like any other.
    sent = client.messages.list(to=TESTER)
    assert [m.body for m in sent] == ["Hi ANN"]

    # Published: everyone runs it; the tester now runs a newer draft.
    flows(flow.sid).update(status="published")
    flows(flow.sid).update(status="draft", definition=definition("Hello"))
    customer = executions.create(to=CUSTOMER, from_=FROM, parameters={"name": "bo"})
    assert (customer.status, customer.flow_version) == ("active", 2)
    again = executions.create(to=TESTER, from_=FROM, parameters={"name": "cy", "vip": "yes"})
    assert again.flow_version == 3
    assert executions(again.sid).execution_context().fetch().context["widgets"]["reply"]["outbound"]["Body"] == "Hello CY"

    # One active execution per contact; ending it frees the contact.
    with pytest.raises(TwilioRestException) as err:
        executions.create(to=CUSTOMER, from_=FROM)
    assert (err.value.status, err.value.code) == (409, 20409)
    assert "already active for this contact" in err.value.msg
    assert [e.sid for e in executions.list(status="active")] == [customer.sid]
    since = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    assert len(executions.list(date_created_from=since)) == 3
    ended = executions(customer.sid).update(status="ended")
    assert ended.status == "ended"
    assert executions.list(status="active") == []

    # Paging and delete.
    assert [s.sid for s in executions(tested.sid).steps.list(page_size=1)] == [s.sid for s in steps]
    assert executions(tested.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        executions(tested.sid).fetch()
    assert err.value.status == 404
