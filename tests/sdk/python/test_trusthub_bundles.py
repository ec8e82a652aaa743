"""TrustHub bundles through the official twilio-python: the ISV loop for a Secondary Customer
Profile and an A2P Trust Product in a customer subaccount (evaluate, fix, submit), the simulated
review's status callbacks checked with the official RequestValidator, and refusals as
TwilioRestException. The ISV's approved primary profile comes from config/trusthub-isv.json."""

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from conftest import LocalTwilio

CUSTOMER_SID = "AC00000000000000000000000000001501"
CUSTOMER_TOKEN = "15011501150115011501150115011501"
ISV_PRIMARY = "BU00000000000000000000000000001500"
SECONDARY_POLICY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_POLICY = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
PRIMARY_POLICY = "RN6433641899984f951173ef1738c3bdd0"


@pytest.fixture
def customer(isv_url):
    return Client(CUSTOMER_SID, CUSTOMER_TOKEN, http_client=LocalTwilio(isv_url))


def failing(evaluation):
    return [r["requirement_name"] for r in evaluation.results if not r["passed"]]


def test_isv_loop_with_signed_callbacks(customer, receiver):
    base, got = receiver
    th = customer.trusthub.v1
    cp = th.customer_profiles.create(
        friendly_name="Py Bakery", email="py@bakery.example", policy_sid=SECONDARY_POLICY,
        status_callback=f"{base}/cp")
    assert cp.sid.startswith("BU") and cp.status == "draft" and cp.errors is None
    profile = th.customer_profiles(cp.sid)

    empty = profile.customer_profiles_evaluations.create(policy_sid=SECONDARY_POLICY)
    assert empty.status == "noncompliant"
    assert failing(empty) == ["customer_profile_business_information", "authorized_representative_1",
                              "customer_profile_address", "primary_customer_profile"]
    assert empty.results[0]["error_code"] == 22214  # results keep Twilio's snake_case keys

    info = th.end_users.create(
        friendly_name="Py Bakery", type="customer_profile_business_information",
        attributes={"business_name": "Py Bakery", "business_type": "Partnership",
                    "business_identity": "direct_customer", "business_industry": "FOOD_AND_BEVERAGE",
                    "business_registration_identifier": "EIN", "business_registration_number": "11-1111111",
                    "business_regions_of_operation": "USA_AND_CANADA"})
    rep = th.end_users.create(
        friendly_name="Rep", type="authorized_representative_1",
        attributes={"first_name": "Pat", "last_name": "Py", "email": "pat@bakery.example",
                    "business_title": "Owner", "job_position": "CEO", "phone_number": "+15005550103"})
    address = th.supporting_documents.create(
        friendly_name="HQ", type="customer_profile_address",
        attributes={"address_sids": "AD00000000000000000000000000000002"})
    assert address.status == "DRAFT" and address.attributes["address_sids"].startswith("AD")
    for sid in (info.sid, rep.sid, address.sid, ISV_PRIMARY):
        assignment = profile.customer_profiles_entity_assignments.create(object_sid=sid)
        assert assignment.sid.startswith("BV") and assignment.object_sid == sid

    partial = profile.customer_profiles_evaluations.create(policy_sid=SECONDARY_POLICY)
    assert failing(partial) == ["customer_profile_business_information"]
    assert [i["object_field"] for i in partial.results[0]["invalid"]] == ["website_url"]
    th.end_users(info.sid).update(attributes={**info.attributes, "website_url": "https://py.example"})
    compliant = profile.customer_profiles_evaluations.create(policy_sid=SECONDARY_POLICY)
    assert compliant.status == "compliant"
    assert profile.update(status="pending-review").status == "pending-review"

    tp = th.trust_products.create(
        friendly_name="Py Bakery A2P", email="py@bakery.example", policy_sid=A2P_POLICY,
        status_callback=f"{base}/tp")
    product = th.trust_products(tp.sid)
    a2p = th.end_users.create(friendly_name="A2P", type="us_a2p_messaging_profile_information",
                              attributes={"company_type": "private"})
    for sid in (a2p.sid, cp.sid):
        product.trust_products_entity_assignments.create(object_sid=sid)
    assert product.trust_products_evaluations.create(policy_sid=A2P_POLICY).status == "compliant"
    assert product.update(status="pending-review").status == "pending-review"

    validator = RequestValidator(CUSTOMER_TOKEN)
    seen = {"/cp": [], "/tp": []}
    for _ in range(4):
        path, headers, params = got.get(timeout=20)
        assert validator.validate(f"{base}{path}", dict(params), headers.get("X-Twilio-Signature"))
        seen[path].append(dict(params)["Status"])
    assert seen == {"/cp": ["in-review", "twilio-approved"], "/tp": ["in-review", "twilio-approved"]}
    deadline = time.time() + 10
    while profile.fetch().status != "twilio-approved" and time.time() < deadline:
        time.sleep(0.05)
    approved = profile.fetch()
    assert approved.status == "twilio-approved" and approved.valid_until is not None
    assert len(profile.customer_profiles_entity_assignments.list()) == 4
    assert [e.status for e in profile.customer_profiles_evaluations.list()] == [
        "noncompliant", "noncompliant", "compliant", "compliant"]
    assert th.supporting_documents(address.sid).fetch().status == "APPROVED"


def test_refusals_are_twilio_rest_exceptions(customer):
    th = customer.trusthub.v1
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles.create(friendly_name="P", email="p@x.example", policy_sid=PRIMARY_POLICY)
    assert (err.value.status, err.value.code) == (400, 20001)
    cp = th.customer_profiles.create(friendly_name="Py refusals", email="p@x.example",
                                     policy_sid=SECONDARY_POLICY)
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(cp.sid).update(status="pending-review")
    assert (err.value.status, err.value.code) == (400, 20001)
    with pytest.raises(TwilioRestException) as err:
        th.customer_profiles(cp.sid).customer_profiles_entity_assignments.create(
            object_sid="IT00000000000000000000000000001500")  # the parent's end user
    assert err.value.code == 22205
    rep = th.end_users.create(friendly_name="R", type="authorized_representative_1", attributes={})
    th.customer_profiles(cp.sid).customer_profiles_entity_assignments.create(object_sid=rep.sid)
    with pytest.raises(TwilioRestException) as err:
        th.end_users(rep.sid).delete()
    assert err.value.code == 21644
    with pytest.raises(TwilioRestException) as err:
        th.trust_products(cp.sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    assert th.customer_profiles(cp.sid).delete() is True


def test_catalogs(customer):
    th = customer.trusthub.v1
    policies = th.policies.list()
    assert SECONDARY_POLICY in [p.sid for p in policies]
    secondary = th.policies(SECONDARY_POLICY).fetch()
    assert secondary.requirements["supporting_customer_profiles"][0]["requirement_name"] == "primary_customer_profile"
    types = th.supporting_document_types.list()
    assert "customer_profile_address" in [t.machine_name for t in types]
