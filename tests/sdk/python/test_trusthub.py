"""TrustHub v1 EndUsers and EndUserTypes through the official twilio-python."""

import datetime

import pytest
from twilio.base.exceptions import TwilioRestException

ATTRIBUTES = {"first_name": "rep1", "last_name": "test", "email": "foobar@test.com",
              "phone_number": "+11234567890", "business_title": "ceo", "job_position": "CEO"}


def test_end_user_lifecycle(client):
    user = client.trusthub.v1.end_users.create(
        friendly_name="auth_rep_1", type="authorized_representative_1", attributes=ATTRIBUTES)
    assert user.sid.startswith("IT")
    assert user.attributes == ATTRIBUTES  # a dict, not a string
    assert isinstance(user.date_created, datetime.datetime)
    fetched = client.trusthub.v1.end_users(user.sid).fetch()
    assert fetched.type == "authorized_representative_1"
    updated = client.trusthub.v1.end_users(user.sid).update(
        friendly_name="renamed", attributes={"nested": {"n": [1, 2.5]}, "u": "é"})
    assert updated.friendly_name == "renamed"
    assert updated.attributes == {"nested": {"n": [1, 2.5]}, "u": "é"}
    assert user.sid in [u.sid for u in client.trusthub.v1.end_users.list()]
    assert client.trusthub.v1.end_users(user.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.trusthub.v1.end_users(user.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_end_user_errors(client):
    with pytest.raises(TwilioRestException) as err:
        client.trusthub.v1.end_users.create(friendly_name="x", type="martian")
    assert (err.value.status, err.value.code) == (400, 20001)
    with pytest.raises(TwilioRestException) as err:
        client.trusthub.v1.end_users.create(friendly_name="x", type="individual", attributes=[1, 2])
    assert err.value.code == 20001


def test_end_user_paging(client):
    created = [client.trusthub.v1.end_users.create(friendly_name=f"p{i}", type="individual").sid
               for i in range(5)]
    seen = [u.sid for u in client.trusthub.v1.end_users.list(page_size=2)]
    assert [s for s in seen if s in created] == created
    assert client.trusthub.v1.end_users.create(friendly_name="e", type="business").attributes == {}


def test_end_user_types_catalog(client):
    types = client.trusthub.v1.end_user_types.list()
    names = {t.machine_name: t for t in types}
    assert {"individual", "business", "authorized_representative_1"} <= set(names)
    rep = names["authorized_representative_1"]
    assert rep.sid.startswith("OY")
    fetched = client.trusthub.v1.end_user_types(rep.sid).fetch()
    assert [f["machine_name"] for f in fetched.fields][:2] == ["last_name", "email"]
