"""Studio v2 flows, revisions, validation and TestUsers through the official twilio-python."""

import datetime

import pytest
from twilio.base.exceptions import TwilioRestException

DEFINITION = {
    "description": "SDK flow",
    "initial_state": "Trigger",
    "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "reply"}]},
        {"name": "reply", "type": "send-message", "properties": {"body": "hi"},
         "transitions": [{"event": "sent"}]},
    ],
}


def new_flow(client, status="published", definition=DEFINITION):
    return client.studio.v2.flows.create(
        friendly_name="sdk flow", status=status, definition=definition, commit_message="first")


def test_flow_create_fetch_update_delete(client):
    flow = new_flow(client)
    assert flow.sid.startswith("FW")
    assert flow.revision == 1
    assert flow.definition == DEFINITION
    assert flow.valid is True
    assert isinstance(flow.date_created, datetime.datetime)
    assert flow.links["test_users"].endswith(f"/v2/Flows/{flow.sid}/TestUsers")

    fetched = client.studio.v2.flows(flow.sid).fetch()
    assert fetched.friendly_name == "sdk flow"
    updated = client.studio.v2.flows(flow.sid).update(status="draft", friendly_name="renamed",
                                                      commit_message="second")
    assert (updated.revision, updated.status, updated.commit_message) == (2, "draft", "second")
    assert isinstance(updated.date_updated, datetime.datetime)

    assert client.studio.v2.flows(flow.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.studio.v2.flows(flow.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_revisions_by_number_and_by_name(client):
    flow = new_flow(client)
    client.studio.v2.flows(flow.sid).update(status="draft", friendly_name="v2")
    revisions = client.studio.v2.flows(flow.sid).revisions.list()
    assert [r.revision for r in revisions] == [1, 2]
    assert client.studio.v2.flows(flow.sid).revisions("1").fetch().friendly_name == "sdk flow"
    assert client.studio.v2.flows(flow.sid).revisions("LatestRevision").fetch().revision == 2
    assert client.studio.v2.flows(flow.sid).revisions("LatestPublished").fetch().revision == 1


def test_validate_and_publishing_invalid_definitions(client):
    ok = client.studio.v2.flow_validate.update(friendly_name="v", status="draft", definition=DEFINITION)
    assert ok.valid is True
    broken = {"initial_state": "nowhere", "states": []}
    with pytest.raises(TwilioRestException) as err:
        client.studio.v2.flow_validate.update(friendly_name="v", status="draft", definition=broken)
    assert (err.value.status, err.value.code) == (400, 81022)
    assert err.value.details["errors"]
    with pytest.raises(TwilioRestException) as err:
        new_flow(client, status="published", definition=broken)
    assert err.value.code == 81022
    draft = new_flow(client, status="draft", definition=broken)
    assert draft.valid is False and draft.errors


def test_flow_list_pages(client):
    created = [new_flow(client).sid for _ in range(5)]
    seen = [f.sid for f in client.studio.v2.flows.list(page_size=2)]
    assert [s for s in seen if s in created] == created
    assert len(seen) == len(set(seen))


def test_test_users_replace_and_limits(client):
    flow = new_flow(client)
    assert client.studio.v2.flows(flow.sid).test_users().fetch().test_users == []
    users = ["+14155551212", "a b", "100%", "emoji 🎉", "中" * 100]
    updated = client.studio.v2.flows(flow.sid).test_users().update(test_users=users + ["a b"])
    assert updated.test_users == users
    assert updated.sid == flow.sid
    assert updated.url.endswith(f"/v2/Flows/{flow.sid}/TestUsers")
    with pytest.raises(TwilioRestException) as err:
        client.studio.v2.flows(flow.sid).test_users().update(test_users=["x" * 301])
    assert (err.value.status, err.value.code) == (400, 20001)
    with pytest.raises(TwilioRestException) as err:
        client.studio.v2.flows(flow.sid).test_users().update(test_users=[])
    assert err.value.code == 20001
    assert client.studio.v2.flows(flow.sid).test_users().fetch().test_users == users


def test_other_accounts_flows_are_invisible(client, make_client):
    flow = new_flow(client)
    sub = client.api.v2010.accounts.create(friendly_name="studio other")
    other = make_client(sub.sid, sub.auth_token)
    with pytest.raises(TwilioRestException) as err:
        other.studio.v2.flows(flow.sid).test_users().fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    assert flow.sid not in [f.sid for f in other.studio.v2.flows.list()]


def test_api_key_client_reaches_studio(client, make_client):
    from conftest import MAIN_SID
    key = client.new_keys.create(friendly_name="studio key")
    key_client = make_client(key.sid, key.secret, MAIN_SID)
    flow = new_flow(key_client)
    assert client.studio.v2.flows(flow.sid).fetch().account_sid == MAIN_SID
