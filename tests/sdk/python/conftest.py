"""Starts the real localtwilio binary on a free port over a temporary database, and builds
official-library clients that talk to it (../../../README.md, "Using the official libraries")."""

import glob
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

MAIN_SID = "AC" + "5" * 32
MAIN_TOKEN = "abcdef0123456789abcdef0123456789"


class LocalTwilio(TwilioHttpClient):
    """Sends every request, paging included, to the local server instead of *.twilio.com."""

    def __init__(self, base, **kwargs):
        super().__init__(**kwargs)
        self._base = urlsplit(base)

    def request(self, method, url, **kwargs):
        u = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, u.path, u.query, u.fragment))
        return super().request(method, url, **kwargs)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url():
    yield from _serve([])


@pytest.fixture(scope="session")
def demo_url():
    """A server started with the shipped demo data set (`serve --seed config/demo.json`)."""
    demo = os.path.join(os.path.dirname(__file__), "..", "..", "..", "config", "demo.json")
    yield from _serve(["serve", "--seed", os.path.abspath(demo)])


def _psql(admin_url, statement):
    """Runs one statement with Debian's psql (no Python driver needed)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    psql = bins[-1] if bins else "psql"
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", statement], check=True)


def _database(tmp):
    """A SQLite file in `tmp`, or — with LOCALTWILIO_SDK_POSTGRES set to an admin URL (see
    scripts/pg-temp.sh) — a fresh PostgreSQL database: (LOCALTWILIO_DATABASE, extra env, cleanup)."""
    admin = os.environ.get("LOCALTWILIO_SDK_POSTGRES")
    if not admin:
        return os.path.join(tmp, "db", "localtwilio.db"), {}, lambda: None
    name = "lt_sdk_" + uuid.uuid4().hex
    _psql(admin, f"create database {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    extra = {"LOCALTWILIO_SECRET_KEY": "ab" * 32}
    return url, extra, lambda: _psql(admin, f"drop database if exists {name} with (force)")


def _serve(args):
    binary = os.environ.get("LOCALTWILIO_BIN", "target/debug/localtwilio")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        database, extra, cleanup = _database(tmp)
        env = dict(
            os.environ,
            LOCALTWILIO_LISTEN=f"127.0.0.1:{port}",
            LOCALTWILIO_DATABASE=database,
            LOCALTWILIO_ACCOUNT_SID=MAIN_SID,
            LOCALTWILIO_AUTH_TOKEN=MAIN_TOKEN,
            LOCALTWILIO_LOG="warn",
            **extra,
        )
        for var in ("TWILIO_REGION", "TWILIO_EDGE"):
            env.pop(var, None)
        proc = subprocess.Popen([binary, *args], env=env, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise RuntimeError("localtwilio did not start")
                time.sleep(0.1)
        yield url
        proc.terminate()
        proc.wait(timeout=10)
        cleanup()


@pytest.fixture
def make_client(base_url):
    def make(username=MAIN_SID, password=MAIN_TOKEN, account_sid=None):
        return Client(username, password, account_sid, http_client=LocalTwilio(base_url))

    return make


@pytest.fixture
def client(make_client):
    return make_client()
