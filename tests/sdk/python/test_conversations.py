"""Conversations v1 services, roles, users and configuration through the official twilio-python."""

import datetime

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException


def test_seed_page_user_on_the_default_service(client):
    roles = {r.friendly_name: r for r in client.conversations.v1.roles.list()}
    admin = roles["service admin"].sid
    user = client.conversations.v1.users.create(
        identity="sdk-admin", role_sid=admin, attributes='{ "duty": "tech" }', friendly_name="name",
        x_twilio_webhook_enabled="true")
    assert user.sid.startswith("US")
    assert user.attributes == '{ "duty": "tech" }'
    assert user.role_sid == admin
    assert user.is_online is None
    assert isinstance(user.date_created, datetime.datetime)
    assert user.url.endswith(f"/v1/Users/{user.sid}")
    by_identity = client.conversations.v1.users("sdk-admin").fetch()
    assert by_identity.sid == user.sid
    updated = client.conversations.v1.users(user.sid).update(friendly_name="renamed",
                                                             x_twilio_webhook_enabled="false")
    assert updated.friendly_name == "renamed"
    assert client.conversations.v1.users(user.sid).user_conversations.list() == []
    assert client.conversations.v1.users(user.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.users(user.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_duplicate_and_sid_shaped_identities(client):
    client.conversations.v1.users.create(identity="twice")
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.users.create(identity="twice")
    assert (err.value.status, err.value.code) == (409, 50201)
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.users.create(identity="US" + "a" * 32)
    assert (err.value.status, err.value.code) == (400, 50206)
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.users.create(identity="x" * 257)
    assert err.value.code == 50207


def test_services_roles_and_service_users(client):
    service = client.conversations.v1.services.create(friendly_name="sdk service")
    assert service.sid.startswith("IS")
    assert service.links["users"].endswith(f"/v1/Services/{service.sid}/Users")
    role = client.conversations.v1.services(service.sid).roles.create(
        friendly_name="moderator", type="conversation", permission=["sendMessage", "deleteAnyMessage"])
    assert role.permissions == ["sendMessage", "deleteAnyMessage"]
    assert client.conversations.v1.services(service.sid).roles(role.sid).update(
        permission=["sendMessage"]).permissions == ["sendMessage"]
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.services(service.sid).roles.create(
            friendly_name="bad", type="service", permission=["sendMessage"])
    assert err.value.code == 20001

    for i in range(5):
        client.conversations.v1.services(service.sid).users.create(identity=f"member {i}")
    members = client.conversations.v1.services(service.sid).users.list(page_size=2)
    assert [u.identity for u in members] == [f"member {i}" for i in range(5)]
    fetched = client.conversations.v1.services(service.sid).users("member 3").fetch()
    assert fetched.url.endswith(f"/v1/Services/{service.sid}/Users/{fetched.sid}")
    assert client.conversations.v1.services(service.sid).roles(role.sid).delete() is True
    assert service.sid in [s.sid for s in client.conversations.v1.services.list()]
    assert client.conversations.v1.services(service.sid).delete() is True


def test_configuration(client):
    config = client.conversations.v1.configuration().fetch()
    assert config.default_chat_service_sid.startswith("IS")
    service_config = client.conversations.v1.services(config.default_chat_service_sid).configuration().fetch()
    assert service_config.default_chat_service_role_sid.startswith("RL")
    assert service_config.reachability_enabled is False
    updated = client.conversations.v1.configuration().update(default_inactive_timer="PT2M")
    assert updated.default_inactive_timer == "PT2M"
    with pytest.raises(TwilioRestException) as err:
        client.conversations.v1.configuration().update(default_closed_timer="PT1M")
    assert err.value.code == 20001


def test_other_account_cannot_see_users(client, make_client):
    user = client.conversations.v1.users.create(identity="hidden")
    sub = client.api.v2010.accounts.create(friendly_name="conv other")
    other = make_client(sub.sid, sub.auth_token)
    with pytest.raises(TwilioRestException) as err:
        other.conversations.v1.users(user.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    assert other.conversations.v1.users.list() == []
