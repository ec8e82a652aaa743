"""Schemathesis hooks: every error body must be Twilio's error JSON."""

import schemathesis


@schemathesis.check
def twilio_error_shape(ctx, response, case):
    if response.status_code < 400:
        return None
    body = response.json()
    keys = set(body)
    assert {"code", "message", "more_info", "status"} <= keys, f"not a Twilio error body: {body}"
    assert keys <= {"code", "message", "more_info", "status", "details"}, f"extra keys in error body: {body}"
    assert body["status"] == response.status_code, f"status mismatch: {body}"
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}", body
    assert response.headers.get("content-type", [""])[0].startswith("application/json")
    return None
