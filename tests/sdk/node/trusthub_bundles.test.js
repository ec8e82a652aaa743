// TrustHub bundles through the official twilio-node: the ISV loop for a Secondary Customer
// Profile and an A2P Trust Product in a customer subaccount, the review's status callbacks
// checked with twilio.validateRequest, and refusals. The ISV's approved primary profile comes
// from config/trusthub-isv.json.
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { startServer, client, startReceiver, twilio } = require("./harness");

const CUSTOMER_SID = "AC00000000000000000000000000001501";
const CUSTOMER_TOKEN = "15011501150115011501150115011501";
const ISV_PRIMARY = "BU00000000000000000000000000001500";
const SECONDARY_POLICY = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
const A2P_POLICY = "RNb0d4771c2c98518d916a3d4cd70a8f8b";

let server;
let th;
test.before(async () => {
  const fixture = path.resolve(__dirname, "../../../config/trusthub-isv.json");
  server = await startServer(["serve", "--seed", fixture], {
    LOCALTWILIO_TRUSTHUB_REVIEW_START_MS: "100",
    LOCALTWILIO_TRUSTHUB_REVIEW_DECISION_MS: "200",
  });
  th = client(server.base, CUSTOMER_SID, CUSTOMER_TOKEN).trusthub.v1;
});
test.after(() => server.stop());

const failing = (evaluation) => evaluation.results.filter((r) => !r.passed).map((r) => r.requirement_name);

test("the ISV loop: evaluate, fix, submit, signed callbacks", async () => {
  const receiver = await startReceiver();
  try {
    const cp = await th.customerProfiles.create({
      friendlyName: "Node Bakery", email: "node@bakery.example", policySid: SECONDARY_POLICY,
      statusCallback: `${receiver.base}/cp`,
    });
    assert.equal(cp.status, "draft");
    assert.equal(cp.errors, null);
    const profile = th.customerProfiles(cp.sid);
    const empty = await profile.customerProfilesEvaluations.create({ policySid: SECONDARY_POLICY });
    assert.equal(empty.status, "noncompliant");
    assert.deepEqual(failing(empty), ["customer_profile_business_information", "authorized_representative_1",
      "customer_profile_address", "primary_customer_profile"]);

    const info = await th.endUsers.create({
      friendlyName: "Node Bakery", type: "customer_profile_business_information",
      attributes: { business_name: "Node Bakery", business_type: "Partnership", business_identity: "direct_customer",
        business_industry: "FOOD_AND_BEVERAGE", business_registration_identifier: "EIN",
        business_registration_number: "22-2222222", business_regions_of_operation: "USA_AND_CANADA",
        website_url: "https://node.example" },
    });
    const rep = await th.endUsers.create({
      friendlyName: "Rep", type: "authorized_representative_1",
      attributes: { first_name: "Noa", last_name: "Node", email: "noa@bakery.example", business_title: "Owner",
        job_position: "CEO", phone_number: "+15005550104" },
    });
    const address = await th.supportingDocuments.create({
      friendlyName: "HQ", type: "customer_profile_address", attributes: { address_sids: "AD00000000000000000000000000000003" },
    });
    for (const sid of [info.sid, rep.sid, address.sid, ISV_PRIMARY]) {
      const assignment = await profile.customerProfilesEntityAssignments.create({ objectSid: sid });
      assert.equal(assignment.objectSid, sid);
    }
    const compliant = await profile.customerProfilesEvaluations.create({ policySid: SECONDARY_POLICY });
    assert.equal(compliant.status, "compliant");
    assert.equal((await profile.update({ status: "pending-review" })).status, "pending-review");

    const tp = await th.trustProducts.create({
      friendlyName: "Node Bakery A2P", email: "node@bakery.example", policySid: A2P_POLICY,
      statusCallback: `${receiver.base}/tp`,
    });
    const product = th.trustProducts(tp.sid);
    const a2p = await th.endUsers.create({ friendlyName: "A2P", type: "us_a2p_messaging_profile_information",
      attributes: { company_type: "private" } });
    for (const sid of [a2p.sid, cp.sid]) {
      await product.trustProductsEntityAssignments.create({ objectSid: sid });
    }
    assert.equal((await product.trustProductsEvaluations.create({ policySid: A2P_POLICY })).status, "compliant");
    assert.equal((await product.update({ status: "pending-review" })).status, "pending-review");

    const got = await receiver.waitFor(4, 20000);
    for (const r of got) {
      const ok = twilio.validateRequest(CUSTOMER_TOKEN, r.headers["x-twilio-signature"], `${receiver.base}${r.url}`, r.params);
      assert.ok(ok, "twilio.validateRequest accepts the signature");
    }
    const by = (p) => got.filter((r) => r.url === p).map((r) => r.params.Status);
    assert.deepEqual(by("/cp"), ["in-review", "twilio-approved"]);
    assert.deepEqual(by("/tp"), ["in-review", "twilio-approved"]);
    let approved = await profile.fetch();
    for (let i = 0; i < 100 && approved.status !== "twilio-approved"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      approved = await profile.fetch();
    }
    assert.equal(approved.status, "twilio-approved");
    assert.ok(approved.validUntil instanceof Date);
  } finally {
    receiver.close();
  }
});

test("refusals reject with Twilio's status and code", async () => {
  const cp = await th.customerProfiles.create({ friendlyName: "Node refusals", email: "r@x.example", policySid: SECONDARY_POLICY });
  await assert.rejects(th.customerProfiles(cp.sid).update({ status: "pending-review" }), (e) => e.status === 400 && e.code === 20001);
  await assert.rejects(th.customerProfiles(cp.sid).update({ status: "pending-review", friendlyName: "x" }), (e) => e.code === 22204);
  await assert.rejects(
    th.customerProfiles(cp.sid).customerProfilesEntityAssignments.create({ objectSid: "IT00000000000000000000000000001500" }),
    (e) => e.status === 400 && e.code === 22205);
  await assert.rejects(th.trustProducts(cp.sid).fetch(), (e) => e.status === 404 && e.code === 20404);
  const policies = await th.policies.list();
  assert.ok(policies.some((p) => p.sid === SECONDARY_POLICY));
});
