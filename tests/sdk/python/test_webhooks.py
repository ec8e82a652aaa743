"""Conversations webhooks fired by requests from the official twilio-python, checked with the
official RequestValidator."""

import http.server
import queue
import threading
import time
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from conftest import MAIN_TOKEN


@pytest.fixture
def receiver():
    got = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            got.put((self.path, self.headers, urllib.parse.parse_qsl(body, keep_blank_values=True)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()


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
