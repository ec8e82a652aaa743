// One path per product through the official twilio-node, plus the webhook header on DELETE
// (which twilio-python cannot send).
const test = require("node:test");
const assert = require("node:assert/strict");
const { MAIN_SID, MAIN_TOKEN, startServer, client, startReceiver, twilio } = require("./harness");

let server;
let tw;
test.before(async () => { server = await startServer(); tw = client(server.base); });
test.after(() => server.stop());

test("accounts and API keys", async () => {
  const account = await tw.api.v2010.accounts(MAIN_SID).fetch();
  assert.equal(account.authToken, MAIN_TOKEN);
  assert.ok(account.dateCreated instanceof Date);
  const sub = await tw.api.v2010.accounts.create({ friendlyName: "node sub" });
  assert.equal(sub.ownerAccountSid, MAIN_SID);
  const key = await tw.newKeys.create({ friendlyName: "node key" });
  assert.equal(key.secret.length, 32);
  const keyClient = client(server.base, key.sid, key.secret, MAIN_SID);
  await assert.rejects(keyClient.keys.list(), (e) => e.status === 401 && e.code === 20003);
  assert.equal(await tw.keys(key.sid).remove(), true);
  const accounts = await tw.api.v2010.accounts.list({ pageSize: 1 });
  assert.ok(accounts.length >= 2);
});

test("studio flows and test users", async () => {
  const definition = { initial_state: "Trigger", states: [{ name: "Trigger", type: "trigger", properties: {}, transitions: [] }] };
  const flow = await tw.studio.v2.flows.create({ friendlyName: "node flow", status: "published", definition });
  assert.deepEqual(flow.definition, definition);
  const users = await tw.studio.v2.flows(flow.sid).testUsers().update({ testUsers: ["+14155550100", "node user", "+14155550100"] });
  assert.deepEqual(users.testUsers, ["+14155550100", "node user"]);
  await assert.rejects(tw.studio.v2.flows(flow.sid).testUsers().update({ testUsers: ["x".repeat(301)] }), (e) => e.status === 400 && e.code === 20001);
  // twilio-node 6.2.0 cannot list revisions at all: FlowRevisionPage.getInstance passes no
  // revision and the FlowRevisionInstance constructor calls `revision.toString()` on it, a
  // TypeError whatever the server sends (6.0.2 fell back to the payload's revision; 6.3.1 no
  // longer converts it). So the list is read through the library's raw request and one revision
  // through its typed fetch.
  const listed = await tw.request({ method: "get", uri: `https://studio.twilio.com/v2/Flows/${flow.sid}/Revisions` });
  assert.equal(listed.statusCode, 200);
  assert.deepEqual(listed.body.revisions.map((r) => r.revision), [1]);
  const revision = await tw.studio.v2.flows(flow.sid).revisions("1").fetch();
  assert.equal(revision.revision, 1);
  assert.deepEqual(revision.definition, definition);
});

test("trusthub end users", async () => {
  const user = await tw.trusthub.v1.endUsers.create({ friendlyName: "node rep", type: "authorized_representative_1", attributes: { first_name: "N", email: "n@example.com" } });
  assert.deepEqual(user.attributes, { first_name: "N", email: "n@example.com" });
  const types = await tw.trusthub.v1.endUserTypes.list();
  assert.ok(types.some((t) => t.machineName === "business"));
  await assert.rejects(tw.trusthub.v1.endUsers("IT" + "0".repeat(32)).fetch(), (e) => e.status === 404 && e.code === 20404);
});

test("conversations users with the webhook header on create, update and delete", async () => {
  const receiver = await startReceiver();
  try {
    await tw.conversations.v1.configuration.webhooks().update({ postWebhookUrl: `${receiver.base}/hook`, method: "POST", filters: ["onUserAdded", "onUserUpdated"] });
    const user = await tw.conversations.v1.users.create({ identity: "node-user", xTwilioWebhookEnabled: "true" });
    await tw.conversations.v1.users("node-user").update({ friendlyName: "Node", xTwilioWebhookEnabled: "true" });
    // The Node library sends the header on DELETE too; the server accepts it.
    assert.equal(await tw.conversations.v1.users(user.sid).remove({ xTwilioWebhookEnabled: "true" }), true);
    await assert.rejects(tw.conversations.v1.users(user.sid).fetch(), (e) => e.status === 404 && e.code === 20404);
    const got = await receiver.waitFor(2);
    assert.deepEqual(got.map((r) => r.params.EventType), ["onUserAdded", "onUserUpdated"]);
    for (const r of got) {
      const ok = twilio.validateRequest(MAIN_TOKEN, r.headers["x-twilio-signature"], `${receiver.base}${r.url}`, r.params);
      assert.ok(ok, "twilio.validateRequest accepts the signature");
    }
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(receiver.received.length, 2, "no event for a removed user");

    const dup = tw.conversations.v1.users.create({ identity: "dupe" }).then(() => tw.conversations.v1.users.create({ identity: "dupe" }));
    await assert.rejects(dup, (e) => e.status === 409 && e.code === 50201);
    const service = await tw.conversations.v1.services.create({ friendlyName: "node service" });
    const member = await tw.conversations.v1.services(service.sid).users.create({ identity: "member" });
    assert.ok(member.url.endsWith(`/v1/Services/${service.sid}/Users/${member.sid}`));
  } finally {
    receiver.close();
  }
});
