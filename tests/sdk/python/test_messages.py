"""2010 Messages through the official twilio-python: create, fetch, list with filters and
paging, redaction, scheduling and cancel, media, delete, errors; status callbacks checked
with the official RequestValidator."""

import datetime
import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from conftest import MAIN_SID, MAIN_TOKEN

TO = "+15558675310"
FROM = "+15017122661"
SERVICE = "MG" + "c" * 32


def until(fetch, status, limit=15):
    deadline = time.time() + limit
    while True:
        message = fetch()
        if message.status == status:
            return message
        assert time.time() < deadline, f"never {status}: {message.status}"
        time.sleep(0.05)


def test_create_fetch_and_the_status_progression(client):
    message = client.messages.create(to=TO, from_=FROM, body="Hello from Python")
    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.account_sid == MAIN_SID
    assert message.num_segments == "1"
    assert message.date_sent is None
    assert isinstance(message.date_created, datetime.datetime)
    delivered = until(lambda: client.messages(message.sid).fetch(), "delivered")
    assert isinstance(delivered.date_sent, datetime.datetime)
    assert delivered.body == "Hello from Python"


def test_list_filters_and_pages_newest_first(client):
    sids = [client.messages.create(to="+15550001111", from_=FROM, body=f"n{i}").sid for i in range(5)]
    listed = client.messages.list(to="+15550001111", page_size=2)
    assert [m.sid for m in listed] == list(reversed(sids))
    assert client.messages.list(to="+15550001111", from_="+15559999999") == []
    for sid in sids:
        until(lambda: client.messages(sid).fetch(), "sent")
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    sent_since = client.messages.list(to="+15550001111", date_sent_after=today)
    assert len(sent_since) == 5
    assert client.messages.list(to="+15550001111", date_sent_before=today - datetime.timedelta(days=1)) == []


def test_redaction_media_and_delete(client):
    message = client.messages.create(
        to=TO, from_=FROM, body="code 1234", media_url=["https://example.com/a.png"])
    assert message.sid.startswith("MM")
    assert message.num_media == "1"
    media = client.messages(message.sid).media.list()
    assert [m.content_type for m in media] == ["image/png"]
    assert media[0].parent_sid == message.sid
    redacted = client.messages(message.sid).update(body="")
    assert redacted.body == ""
    assert client.messages(message.sid).delete() is True
    with pytest.raises(TwilioRestException) as e:
        client.messages(message.sid).fetch()
    assert (e.value.status, e.value.code) == (404, 20404)


def test_errors_carry_twilios_codes(client):
    cases = [
        (dict(to=TO, from_=FROM), 21602),
        (dict(to=TO, body="hi"), 21603),
        (dict(to="not a number", from_=FROM, body="hi"), 21211),
        (dict(to=TO, from_=FROM, body="x" * 1601), 21617),
    ]
    for kwargs, code in cases:
        with pytest.raises(TwilioRestException) as e:
            client.messages.create(**kwargs)
        assert (e.value.status, e.value.code) == (400, code), kwargs


def test_a_scheduled_message_is_canceled(client, receiver):
    base, got = receiver
    send_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    message = client.messages.create(
        to=TO, messaging_service_sid=SERVICE, body="later", schedule_type="fixed",
        send_at=send_at, status_callback=f"{base}/cancel")
    assert message.status == "scheduled"
    canceled = client.messages(message.sid).update(status="canceled")
    assert canceled.status == "canceled"
    path, headers, params = got.get(timeout=15)
    assert RequestValidator(MAIN_TOKEN).validate(f"{base}{path}", dict(params), headers["X-Twilio-Signature"])
    assert dict(params)["MessageStatus"] == "canceled"
    with pytest.raises(TwilioRestException) as e:
        client.messages(message.sid).update(status="canceled")
    assert (e.value.status, e.value.code) == (400, 30409)


def test_status_callbacks_validate_with_the_official_validator(client, receiver):
    base, got = receiver
    url = f"{base}/status?tenant=a"
    message = client.messages.create(to=TO, from_=FROM, body="tracked", status_callback=url)
    validator = RequestValidator(MAIN_TOKEN)
    statuses = []
    for _ in range(3):
        path, headers, params = got.get(timeout=15)
        assert validator.validate(f"{base}{path}", dict(params), headers["X-Twilio-Signature"])
        params = dict(params)
        assert params["MessageSid"] == message.sid
        assert params["SmsSid"] == message.sid
        assert params["AccountSid"] == MAIN_SID
        assert (params["From"], params["To"], params["ApiVersion"]) == (FROM, TO, "2010-04-01")
        statuses.append(params["MessageStatus"])
    assert statuses == ["queued", "sent", "delivered"]
