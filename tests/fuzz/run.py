"""Property-based fuzzing of the operations localtwilio implements, driven by the official
OpenAPI files (spec/twilio-oai), with the server's real auth: no response may be a 5xx, every
documented (2xx) response must conform to its schema, every error body must be Twilio-shaped.

Usage: run.py [--max-examples N]. Needs LOCALTWILIO_BIN (the binary) and the schemathesis CLI
on PATH (tests/fuzz/requirements.txt)."""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SID = "AC" + "9" * 32
TOKEN = "0123456789abcdef0123456789abcdef"

# Operations we implement, per spec file (path regexes over the spec's templates).
TARGETS = {
    "twilio_api_v2010.json": r"^/2010-04-01/Accounts(\.json|/\{Sid\}\.json|/\{AccountSid\}/Keys(\.json|/\{Sid\}\.json)"
    r"|/\{AccountSid\}/Messages(\.json|/\{Sid\}\.json|/\{MessageSid\}/Media(\.json|/\{Sid\}\.json)))$",
    "twilio_studio_v2.json": r"^/v2/Flows(/Validate|/\{Sid\}(/(Revisions(/\{Revision\})?|TestUsers))?"
    r"|/\{FlowSid\}/Executions(/\{Sid\}|/\{ExecutionSid\}/(Context|Steps(/\{Sid\}|/\{StepSid\}/Context)?))?)?$",
    "twilio_conversations_v1.json": r"^/v1/(Configuration(/Webhooks)?|Roles(/\{Sid\})?|Users(/\{Sid\})?|Users/\{UserSid\}/Conversations"
    r"|Services(/\{Sid\})?|Services/\{ChatServiceSid\}/(Configuration(/Webhooks)?|Roles(/\{Sid\})?|Users(/\{Sid\})?|Users/\{UserSid\}/Conversations))$",
    "twilio_trusthub_v1.json": r"^/v1/((EndUsers|EndUserTypes|SupportingDocuments|SupportingDocumentTypes|Policies|CustomerProfiles|TrustProducts)(/\{Sid\})?"
    r"|(CustomerProfiles/\{CustomerProfileSid\}|TrustProducts/\{TrustProductSid\})/(EntityAssignments|Evaluations|ChannelEndpointAssignments)(/\{Sid\})?)$",
}


def call(base, method, path, form=None):
    data = urllib.parse.urlencode(form or {}, doseq=True).encode() if form is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode())
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def seed(base):
    """Real resources, so generated requests reach existing objects, not only 404s."""
    definition = {"initial_state": "Trigger", "states": [{"name": "Trigger", "type": "trigger", "properties": {}, "transitions": []}]}
    service = call(base, "GET", "/v1/Configuration")["default_chat_service_sid"]
    flow = call(base, "POST", "/v2/Flows", {"FriendlyName": "fuzz", "Status": "published", "Definition": json.dumps(definition)})["sid"]
    return {
        "account": SID,
        "flow": flow,
        **execution(base, flow),
        "end_user": call(base, "POST", "/v1/EndUsers", {"FriendlyName": "fuzz", "Type": "individual"})["sid"],
        "end_user_type": call(base, "GET", "/v1/EndUserTypes")["end_user_types"][0]["sid"],
        "document": call(base, "POST", "/v1/SupportingDocuments", {"FriendlyName": "fuzz", "Type": "customer_profile_address"})["sid"],
        "document_type": call(base, "GET", "/v1/SupportingDocumentTypes")["supporting_document_types"][0]["sid"],
        "policy": "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        "customer_profile": call(base, "POST", "/v1/CustomerProfiles", {"FriendlyName": "fuzz", "Email": "f@x.example", "PolicySid": "RNdfbf3fae0e1107f8aded0e7cead80bf5"})["sid"],
        "trust_product": call(base, "POST", "/v1/TrustProducts", {"FriendlyName": "fuzz", "Email": "f@x.example", "PolicySid": "RNb0d4771c2c98518d916a3d4cd70a8f8b"})["sid"],
        "service": service,
        "user": call(base, "POST", "/v1/Users", {"Identity": "fuzz user"})["sid"],
        "role": call(base, "GET", "/v1/Roles")["roles"][0]["sid"],
        **message(base),
    }


def execution(base, flow):
    """An ended execution of the seeded flow, and its one step."""
    created = call(base, "POST", f"/v2/Flows/{flow}/Executions", {"To": "+15558675310", "From": "+15017122661"})
    steps = call(base, "GET", f"/v2/Flows/{flow}/Executions/{created['sid']}/Steps")["steps"]
    return {"execution": created["sid"], "step": steps[0]["sid"]}


def message(base):
    """A message with one media item (the fuzzer may delete either: then they are 404s)."""
    created = call(base, "POST", f"/2010-04-01/Accounts/{SID}/Messages.json",
                   {"To": "+15558675310", "From": "+15017122661", "Body": "fuzz", "MediaUrl": "https://example.com/a.png"})
    media = call(base, "GET", f"/2010-04-01/Accounts/{SID}/Messages/{created['sid']}/Media.json")["media_list"]
    return {"message": created["sid"], "media": media[0]["sid"]}


def pinned(spec, regex, real):
    """The spec with two changes, written to a temporary file:
    - path parameters of our operations take the seeded SIDs (plus an identity for users);
    - 2010 paging `*_uri` fields are `format: uri-reference`: the spec says `uri` (absolute),
      but its own examples and Twilio's real responses are relative (`/2010-04-01/...`)."""
    import re
    doc = json.load(open(os.path.join(ROOT, "spec", "twilio-oai", spec)))
    pattern = re.compile(regex)
    for path, item in doc["paths"].items():
        if not pattern.search(path):
            continue
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") != "path":
                    continue
                name = param["name"]
                if name == "AccountSid" or (name == "Sid" and path.startswith("/2010-04-01/Accounts/{Sid}")):
                    values = [real["account"]]
                elif name == "Sid" and "/Keys/" in path:
                    continue
                elif "/Messages/" in path:
                    values = [real["media"]] if name == "Sid" and "/Media/" in path else [real["message"]]
                elif "/Executions/" in path and name != "FlowSid":
                    on_step = name == "StepSid" or (name == "Sid" and "/Steps/" in path)
                    values = [real["step"]] if on_step else [real["execution"]]
                elif path.startswith("/v2/Flows"):
                    values = [real["flow"]] if name in ("Sid", "FlowSid") else ["1", "LatestRevision", "LatestPublished"]
                elif path.startswith("/v1/EndUserTypes"):
                    values = [real["end_user_type"], "individual"]
                elif path.startswith("/v1/EndUsers"):
                    values = [real["end_user"]]
                elif path.startswith("/v1/SupportingDocumentTypes"):
                    values = [real["document_type"], "customer_profile_address"]
                elif path.startswith("/v1/SupportingDocuments"):
                    values = [real["document"]]
                elif path.startswith("/v1/Policies"):
                    values = [real["policy"]]
                elif name in ("CustomerProfileSid", "TrustProductSid") or path in ("/v1/CustomerProfiles/{Sid}", "/v1/TrustProducts/{Sid}"):
                    values = [real["customer_profile" if path.startswith("/v1/CustomerProfiles") else "trust_product"]]
                elif name == "ChatServiceSid" or path.startswith("/v1/Services/{Sid}"):
                    values = [real["service"]]
                elif "/Roles/" in path:
                    values = [real["role"]]
                elif "/Users/" in path:
                    values = [real["user"], "fuzz user"]
                else:
                    continue
                param["schema"] = {"type": "string", "enum": values}
    if spec == "twilio_api_v2010.json":
        for item in doc["paths"].values():
            for op in item.values():
                if not isinstance(op, dict):
                    continue
                for response in op.get("responses", {}).values():
                    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                    for key, prop in schema.get("properties", {}).items():
                        if key.endswith("_uri") or key == "uri":
                            prop["format"] = "uri-reference"
    fd, out = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    max_examples = "25"
    if "--max-examples" in sys.argv:
        max_examples = sys.argv[sys.argv.index("--max-examples") + 1]
    binary = os.environ.get("LOCALTWILIO_BIN", os.path.join(ROOT, "target", "debug", "localtwilio"))
    port = free_port()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOCALTWILIO_LISTEN=f"127.0.0.1:{port}", LOCALTWILIO_DATABASE=os.path.join(tmp, "db.sqlite"),
                   LOCALTWILIO_ACCOUNT_SID=SID, LOCALTWILIO_AUTH_TOKEN=TOKEN, LOCALTWILIO_LOG="warn")
        server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            real = seed(base)
            hooks_env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=os.path.dirname(__file__))
            for spec, regex in TARGETS.items():
                print(f"=== schemathesis: {spec}", flush=True)
                cmd = [
                    "schemathesis", "run", pinned(spec, regex, real),
                    "--url", base, "--auth", f"{SID}:{TOKEN}",
                    "--include-path-regex", regex,
                    "--checks", "not_a_server_error,response_schema_conformance,twilio_error_shape",
                    "--max-examples", max_examples, "--seed", "20261123",
                    "--phases", "examples,coverage,fuzzing",
                    "--generation-database", "none", "--no-color",
                    "--suppress-health-check", "all", "--workers", "1",
                ]
                if subprocess.run(cmd, env=hooks_env).returncode != 0:
                    failed.append(spec)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"schemathesis: {len(TARGETS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
