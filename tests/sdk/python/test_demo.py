"""The shipped demo data set (config/demo.json, README "Demo") through the official library:
what the walk-through shows is what a Twilio client sees."""

from twilio.rest import Client

from conftest import LocalTwilio

DEMO_SID = "AC00000000000000000000000000000de0"
DEMO_TOKEN = "0123456789abcdef0123456789abcdef"


def demo_client(demo_url, username=DEMO_SID, password=DEMO_TOKEN):
    return Client(username, password, DEMO_SID, http_client=LocalTwilio(demo_url))


def test_the_demo_account_and_its_subaccount(demo_url):
    client = demo_client(demo_url)
    account = client.api.v2010.accounts(DEMO_SID).fetch()
    assert account.friendly_name == "Acme Demo"
    names = sorted(a.friendly_name for a in client.api.v2010.accounts.list())
    assert names == ["Acme Demo", "Acme Demo — EU branch"]


def test_the_demo_flows_and_test_users(demo_url):
    client = demo_client(demo_url)
    flows = {f.sid: f for f in client.studio.v2.flows.list()}
    assert flows["FW00000000000000000000000000000de1"].status == "published"
    assert flows["FW00000000000000000000000000000de2"].status == "draft"
    test_users = client.studio.v2.flows("FW00000000000000000000000000000de1").test_users().fetch()
    assert test_users.test_users == ["+15005550006", "+15005550001", "client:alice"]


def test_the_support_desk_service_roles_and_users(demo_url):
    client = demo_client(demo_url)
    desk = client.conversations.v1.services("IS00000000000000000000000000000de1")
    assert desk.fetch().friendly_name == "Support desk"
    roles = sorted(r.friendly_name for r in desk.roles.list())
    assert roles == ["agent", "customer", "participant", "supervisor"]
    maria = desk.users("maria.agent").fetch()
    assert maria.role_sid == "RL00000000000000000000000000000d11"
    assert maria.attributes == '{"languages":["en","es"],"team":"tier-2"}'
    alice = client.conversations.v1.users("alice@acme.example").fetch()
    assert alice.sid == "US00000000000000000000000000000de1"


def test_the_demo_end_users_and_api_key(demo_url):
    client = demo_client(demo_url)
    types = sorted(e.type for e in client.trusthub.v1.end_users.list())
    assert types == ["authorized_representative_1", "customer_profile_business_information", "individual"]
    key_client = demo_client(demo_url, "SK00000000000000000000000000000de1", "DemoSecretDemoSecretDemoSecret01")
    assert len(key_client.conversations.v1.services.list()) == 2
