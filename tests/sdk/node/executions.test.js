// Studio v2 Executions through the official twilio-node: a draft tested by a test user, then
// published; steps and contexts read back; one active execution per contact; end and delete.
const test = require("node:test");
const assert = require("node:assert/strict");
const { startServer, client } = require("./harness");

let server;
let tw;
test.before(async () => { server = await startServer(); tw = client(server.base); });
test.after(() => server.stop());

const TESTER = "+15550003000";
const CUSTOMER = "+15550004000";
const FROM = "+15557771111";

function definition(greeting) {
  return {
    description: "node executions",
    initial_state: "Trigger",
    states: [
      { name: "Trigger", type: "trigger", properties: {}, transitions: [{ event: "incomingRequest", next: "vars" }] },
      { name: "vars", type: "set-variables", properties: { variables: [{ key: "n", value: "{{flow.data.n | plus: 1}}" }] },
        transitions: [{ event: "next", next: "reply" }] },
      { name: "reply", type: "send-and-wait-for-reply", properties: { body: `${greeting} #{{flow.variables.n}}`, timeout: "3600" },
        transitions: [{ event: "incomingMessage" }, { event: "timeout" }, { event: "deliveryFailure" }] },
    ],
  };
}

test("draft, test, publish: executions, steps and contexts", async () => {
  const flows = tw.studio.v2.flows;
  const flow = await flows.create({ friendlyName: "node exec", status: "draft", definition: definition("Hi") });
  const executions = flows(flow.sid).executions;
  await assert.rejects(executions.create({ to: TESTER, from: FROM }), (e) => e.status === 404 && e.code === 20404);
  await flows(flow.sid).testUsers().update({ testUsers: [TESTER] });

  const tested = await executions.create({ to: TESTER, from: FROM, parameters: { n: 41 } });
  assert.ok(tested.sid.startsWith("FN"));
  assert.equal(tested.status, "active", "it waits for a reply");
  assert.equal(tested.flowVersion, 1);
  assert.ok(tested.dateCreated instanceof Date);
  const steps = await executions(tested.sid).steps.list();
  assert.deepEqual(steps.map((s) => [s.name, s.transitionedFrom, s.transitionedTo]), [
    ["incomingRequest", "Trigger", "vars"],
    ["next", "vars", "reply"],
  ]);
  const stepContext = await executions(tested.sid).steps(steps[1].sid).stepContext().fetch();
  assert.deepEqual(stepContext.context, { n: "42" });
  const context = await executions(tested.sid).executionContext().fetch();
  assert.equal(context.context.widgets.reply.outbound.Body, "Hi #42");
  assert.equal(context.context.trigger.request.to, TESTER);

  await assert.rejects(executions.create({ to: TESTER, from: FROM }),
    (e) => e.status === 409 && e.code === 20409 && e.message.includes("already active for this contact"));
  const active = await executions.list({ status: "active" });
  assert.deepEqual(active.map((e) => e.sid), [tested.sid]);
  const ended = await executions(tested.sid).update({ status: "ended" });
  assert.equal(ended.status, "ended");

  await flows(flow.sid).update({ status: "published", definition: definition("Hello") });
  const customer = await executions.create({ to: CUSTOMER, from: FROM, parameters: { n: 1 } });
  assert.equal(customer.flowVersion, 2);
  const customerContext = await executions(customer.sid).executionContext().fetch();
  assert.equal(customerContext.context.widgets.reply.outbound.Body, "Hello #2");
  const all = await executions.list({ dateCreatedFrom: new Date("2000-01-01T00:00:00Z") });
  assert.equal(all.length, 2);
  assert.equal(await executions(customer.sid).remove(), true);
  await assert.rejects(executions(customer.sid).fetch(), (e) => e.status === 404);
});
