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

test("conversations: a chat scenario with two chat participants and an SMS one", async () => {
  const receiver = await startReceiver();
  try {
    const conv = tw.conversations.v1;
    await conv.configuration.webhooks().update({ postWebhookUrl: `${receiver.base}/chat`, method: "POST", target: "webhook", filters: ["onMessageAdded"] });
    const c = await conv.conversations.create({ friendlyName: "Node chat", uniqueName: "node-chat" });
    assert.equal((await conv.conversations("node-chat").fetch()).sid, c.sid);
    const alice = await conv.conversations(c.sid).participants.create({ identity: "node-alice" });
    await conv.conversations(c.sid).participants.create({ identity: "node-bob" });
    const sms = await conv.conversations(c.sid).participants.create({ "messagingBinding.address": "+15558675311", "messagingBinding.proxyAddress": "+15017122662" });
    assert.deepEqual(sms.messagingBinding, { type: "sms", address: "+15558675311", proxy_address: "+15017122662" });
    assert.equal((await conv.users("node-bob").fetch()).identity, "node-bob");
    const first = await conv.conversations(c.sid).messages.create({ author: "node-alice", body: "hello", xTwilioWebhookEnabled: "true" });
    assert.equal(first.index, 0);
    assert.equal(first.participantSid, alice.sid);
    for (const body of ["a", "b"]) await conv.conversations(c.sid).messages.create({ author: "node-bob", body });
    const desc = await conv.conversations(c.sid).messages.list({ order: "desc" });
    assert.deepEqual(desc.map((m) => m.index), [2, 1, 0]);
    await conv.conversations(c.sid).participants(alice.sid).update({ lastReadMessageIndex: 0 });
    const mine = await conv.users("node-alice").userConversations.list();
    assert.deepEqual(mine.map((u) => [u.conversationSid, u.unreadMessagesCount]), [[c.sid, 2]]);
    const muted = await conv.users("node-alice").userConversations(c.sid).update({ notificationLevel: "muted" });
    assert.equal(muted.notificationLevel, "muted");
    const found = await conv.participantConversations.list({ identity: "node-bob" });
    assert.deepEqual(found.map((p) => p.conversationSid), [c.sid]);
    assert.equal(await conv.users("node-alice").userConversations(c.sid).remove(), true);
    assert.deepEqual(await conv.users("node-alice").userConversations.list(), []);
    await assert.rejects(conv.conversations(c.sid).participants.create({ identity: "node-bob" }), (e) => e.status === 409 && e.code === 50433);
    const got = await receiver.waitFor(1);
    assert.equal(got[0].params.EventType, "onMessageAdded");
    assert.ok(twilio.validateRequest(MAIN_TOKEN, got[0].headers["x-twilio-signature"], `${receiver.base}${got[0].url}`, got[0].params));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(receiver.received.length, 1, "only the message sent with the header fired");
  } finally {
    receiver.close();
  }
});
