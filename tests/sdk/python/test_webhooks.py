"""Conversations webhooks fired by requests from the official twilio-python, checked with the
official RequestValidator."""

import time

from twilio.request_validator import RequestValidator

from conftest import MAIN_TOKEN


def test_webhooks_from_python_requests_validate_with_the_official_validator(client, receiver):
    base, got = receiver
    url = f"{base}/conversations-hook?tenant=a"
    config = client.conversations.v1.configuration.webhooks().update(
        post_webhook_url=url, method="POST", filters=["onUserAdded", "onUserUpdated"], target="webhook")
    assert config.filters == ["onUserAdded", "onUserUpdated"]

    client.conversations.v1.users.create(identity="py-quiet")  # no header: nothing
    user = client.conversations.v1.users.create(identity="py-hook", x_twilio_webhook_enabled="true")
    client.conversations.v1.users(user.sid).update(friendly_name="Py", x_twilio_webhook_enabled="true")

    validator = RequestValidator(MAIN_TOKEN)
    events = []
    for _ in range(2):
        path, headers, params = got.get(timeout=15)
        assert validator.validate(f"{base}{path}", dict(params), headers.get("X-Twilio-Signature"))
        events.append(dict(params))
    assert [e["EventType"] for e in events] == ["onUserAdded", "onUserUpdated"]
    assert all(e["Identity"] == "py-hook" for e in events)
    assert events[1]["FriendlyName"] == "Py"
    time.sleep(1)
    assert got.empty()
