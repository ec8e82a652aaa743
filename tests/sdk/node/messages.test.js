// 2010 Messages through the official twilio-node: create, fetch, list with filters, redaction,
// media, delete, errors, and status callbacks checked with twilio.validateRequest.
const test = require("node:test");
const assert = require("node:assert/strict");
const { MAIN_SID, MAIN_TOKEN, startServer, client, startReceiver, twilio } = require("./harness");

const TO = "+15558675310";
const FROM = "+15017122661";

let server;
let tw;
test.before(async () => { server = await startServer(); tw = client(server.base); });
test.after(() => server.stop());

async function until(sid, status) {
  for (let i = 0; i < 300; i++) {
    const message = await tw.messages(sid).fetch();
    if (message.status === status) return message;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${sid} never reached ${status}`);
}

test("create, fetch, progress, list, redact, media and delete", async () => {
  const message = await tw.messages.create({ to: TO, from: FROM, body: "Hello from Node" });
  assert.match(message.sid, /^SM[0-9a-f]{32}$/);
  assert.equal(message.status, "queued");
  assert.equal(message.direction, "outbound-api");
  assert.equal(message.accountSid, MAIN_SID);
  assert.ok(message.dateCreated instanceof Date);
  assert.equal(message.dateSent, null);
  const delivered = await until(message.sid, "delivered");
  assert.ok(delivered.dateSent instanceof Date);

  const withMedia = await tw.messages.create({ to: TO, from: FROM, mediaUrl: ["https://example.com/a.gif"] });
  assert.match(withMedia.sid, /^MM/);
  const media = await tw.messages(withMedia.sid).media.list();
  assert.deepEqual(media.map((m) => m.contentType), ["image/gif"]);

  const listed = await tw.messages.list({ to: TO, pageSize: 1 });
  assert.deepEqual(listed.map((m) => m.sid), [withMedia.sid, message.sid]);
  assert.deepEqual(await tw.messages.list({ from: "+15550000000" }), []);

  const redacted = await tw.messages(message.sid).update({ body: "" });
  assert.equal(redacted.body, "");
  assert.equal(await tw.messages(withMedia.sid).remove(), true);
  await assert.rejects(tw.messages(withMedia.sid).fetch(), (e) => e.status === 404 && e.code === 20404);
  await assert.rejects(tw.messages.create({ to: TO, body: "no sender" }), (e) => e.status === 400 && e.code === 21603);
  await assert.rejects(tw.messages.create({ to: TO, from: FROM }), (e) => e.status === 400 && e.code === 21602);
});

test("status callbacks validate with twilio.validateRequest", async () => {
  const receiver = await startReceiver();
  try {
    const url = `${receiver.base}/status?tenant=node`;
    const message = await tw.messages.create({ to: TO, from: FROM, body: "tracked", statusCallback: url });
    const got = await receiver.waitFor(3);
    assert.deepEqual(got.map((r) => r.params.MessageStatus), ["queued", "sent", "delivered"]);
    for (const r of got) {
      const ok = twilio.validateRequest(MAIN_TOKEN, r.headers["x-twilio-signature"], `${receiver.base}${r.url}`, r.params);
      assert.ok(ok, "twilio.validateRequest accepts the signature");
      assert.equal(r.params.MessageSid, message.sid);
      assert.equal(r.params.SmsStatus, r.params.MessageStatus);
      assert.equal(r.params.AccountSid, MAIN_SID);
      assert.equal(r.params.To, TO);
      assert.equal(r.params.From, FROM);
    }
  } finally {
    receiver.close();
  }
});
