"""Accounts and API keys through the official twilio-python library."""

import datetime

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from conftest import MAIN_SID, MAIN_TOKEN


def test_fetch_main_account_is_typed(client):
    account = client.api.v2010.accounts(MAIN_SID).fetch()
    assert account.sid == MAIN_SID
    assert account.auth_token == MAIN_TOKEN
    assert account.owner_account_sid == MAIN_SID
    assert account.status == "active"
    assert account.type == "Full"
    assert isinstance(account.date_created, datetime.datetime)
    assert account.subresource_uris["keys"] == f"/2010-04-01/Accounts/{MAIN_SID}/Keys.json"


def test_create_subaccount_and_use_its_credentials(client, make_client):
    sub = client.api.v2010.accounts.create(friendly_name="sdk sub")
    assert sub.owner_account_sid == MAIN_SID
    assert len(sub.auth_token) == 32
    sub_client = make_client(sub.sid, sub.auth_token)
    assert sub_client.api.v2010.accounts(sub.sid).fetch().friendly_name == "sdk sub"

    with pytest.raises(TwilioRestException) as err:
        sub_client.api.v2010.accounts.create(friendly_name="nested")
    assert (err.value.status, err.value.code) == (400, 21101)

    with pytest.raises(TwilioRestException) as err:
        sub_client.api.v2010.accounts(MAIN_SID).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_suspend_stops_a_subaccount_and_filters_find_it(client, make_client):
    sub = client.api.v2010.accounts.create(friendly_name="to suspend")
    sub_client = make_client(sub.sid, sub.auth_token)
    sub_client.api.v2010.accounts(sub.sid).fetch()
    updated = client.api.v2010.accounts(sub.sid).update(status="suspended")
    assert updated.status == "suspended"
    with pytest.raises(TwilioRestException) as err:
        sub_client.api.v2010.accounts(sub.sid).fetch()
    assert (err.value.status, err.value.code) == (401, 20003)
    suspended = client.api.v2010.accounts.list(status="suspended")
    assert sub.sid in [a.sid for a in suspended]
    named = client.api.v2010.accounts.list(friendly_name="to suspend")
    assert [a.sid for a in named] == [sub.sid]


def test_list_pages_through_every_account(client):
    created = [client.api.v2010.accounts.create(friendly_name=f"page {i}").sid for i in range(7)]
    seen = [a.sid for a in client.api.v2010.accounts.list(page_size=3)]
    assert len(seen) == len(set(seen))
    assert set(created) <= set(seen)
    assert seen[0] == MAIN_SID
    limited = client.api.v2010.accounts.list(limit=4)
    assert len(limited) == 4
    page = client.api.v2010.accounts.page(page_size=2)
    second = page.next_page()
    assert second is not None
    assert [a.sid for a in second] == seen[2:4]


def test_api_keys_lifecycle(client, make_client):
    key = client.new_keys.create(friendly_name="sdk key")
    assert key.sid.startswith("SK") and len(key.secret) == 32
    assert isinstance(key.date_created, datetime.datetime)
    fetched = client.keys(key.sid).fetch()
    assert fetched.friendly_name == "sdk key"
    assert key.sid in [k.sid for k in client.keys.list()]
    assert client.keys(key.sid).update(friendly_name="renamed").friendly_name == "renamed"

    # A Standard key authenticates (Client(SK, secret, AC)) but may not manage keys/accounts.
    key_client = make_client(key.sid, key.secret, MAIN_SID)
    with pytest.raises(TwilioRestException) as err:
        key_client.keys(key.sid).fetch()
    assert (err.value.status, err.value.code) == (401, 20003)
    with pytest.raises(TwilioException):
        key_client.keys.list()

    assert client.keys(key.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.keys(key.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_wrong_token_is_20003(make_client):
    bad = make_client(MAIN_SID, "0" * 32)
    with pytest.raises(TwilioRestException) as err:
        bad.api.v2010.accounts(MAIN_SID).fetch()
    assert (err.value.status, err.value.code) == (401, 20003)
