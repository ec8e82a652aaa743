// Starts the real localtwilio binary on a free port over a temporary database and builds
// official-library clients that talk to it (README, "Using the official libraries").
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const twilio = require("twilio");

const MAIN_SID = "AC" + "7".repeat(32);
const MAIN_TOKEN = "fedcba9876543210fedcba9876543210";

class LocalClient extends twilio.RequestClient {
  constructor(base) {
    super();
    this.base = new URL(base);
  }
  request(opts) {
    const u = new URL(opts.uri);
    u.protocol = this.base.protocol;
    u.host = this.base.host;
    return super.request({ ...opts, uri: u.href });
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// `args` are the binary's (e.g. ["serve", "--seed", FILE]); `extraEnv` adds variables.
async function startServer(args = [], extraEnv = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "localtwilio-node-"));
  const binary = process.env.LOCALTWILIO_BIN || path.resolve(__dirname, "../../../target/debug/localtwilio");
  const env = { ...process.env, LOCALTWILIO_LISTEN: `127.0.0.1:${port}`, LOCALTWILIO_DATABASE: path.join(dir, "db.sqlite"),
    LOCALTWILIO_ACCOUNT_SID: MAIN_SID, LOCALTWILIO_AUTH_TOKEN: MAIN_TOKEN, LOCALTWILIO_LOG: "warn", ...extraEnv };
  delete env.TWILIO_REGION;
  delete env.TWILIO_EDGE;
  const child = spawn(binary, args, { env, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      await new Promise((resolve, reject) => http.get(`${base}/healthz`, (r) => { r.resume(); r.statusCode === 200 ? resolve() : reject(); }).on("error", reject));
      return { base, stop: () => { child.kill("SIGTERM"); fs.rmSync(dir, { recursive: true, force: true }); } };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new Error("localtwilio did not start");
}

function client(base, username = MAIN_SID, password = MAIN_TOKEN, accountSid) {
  return twilio(username, password, { httpClient: new LocalClient(base), accountSid });
}

// A webhook receiver that records every request.
function startReceiver() {
  const received = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ url: req.url, headers: req.headers, params: Object.fromEntries(new URLSearchParams(body)) });
      waiters.splice(0).forEach((w) => w());
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    resolve({
      base, received, close: () => server.close(),
      async waitFor(n, ms = 15000) {
        const deadline = Date.now() + ms;
        while (received.length < n) {
          if (Date.now() > deadline) throw new Error(`expected ${n} webhooks, got ${received.length}`);
          await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
        }
        return received;
      },
    });
  }));
}

module.exports = { MAIN_SID, MAIN_TOKEN, startServer, client, startReceiver, twilio };
