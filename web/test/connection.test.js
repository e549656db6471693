import { test, beforeEach, afterEach, mock } from "node:test";
import assert from "node:assert/strict";
import { Connection, backoff } from "../src/protocol/connection.js";
import { decodeEnvelope, encodeEnvelope } from "../src/protocol/envelope.js";

// A stand-in for the browser's WebSocket, installed as the global the module uses. The test plays
// the server: it opens the socket, sends text or bytes, and closes it with a code.
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static made = [];
  static refuse = false;

  constructor(url) {
    if (FakeSocket.refuse) throw new SyntaxError(`cannot open ${url}`);
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closeRequest = null;
    FakeSocket.made.push(this);
  }

  send(data) {
    if (this.readyState !== FakeSocket.OPEN) throw new Error("send on a socket that is not open");
    this.sent.push(data);
  }

  close(code, reason) {
    this.readyState = FakeSocket.CLOSING;
    this.closeRequest = { code, reason };
  }

  // The server's side.
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.({});
  }

  say(msg) {
    this.onmessage({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }

  sendBytes(buffer) {
    this.onmessage({ data: buffer });
  }

  hangUp(code, reason = "") {
    this.readyState = FakeSocket.CLOSED;
    this.onclose({ code, reason });
  }

  /** The close handshake the client asked for completes. */
  closed() {
    this.hangUp(this.closeRequest.code, this.closeRequest.reason);
  }
}

const latest = () => FakeSocket.made.at(-1);

function recorder() {
  const log = { events: [], binary: [], status: [], lost: [] };
  const handlers = {
    onEvent: (m) => log.events.push(m),
    onBinary: (m) => log.binary.push(m),
    onStatus: (state, detail) => log.status.push([state, detail]),
    onSessionLost: (code) => log.lost.push(code),
  };
  return { log, handlers };
}

function openSession(conn, session = "s1", token = "t1") {
  conn.connect();
  const ws = latest();
  ws.accept();
  ws.say({ type: "hello", session, token, resumed: false });
  return ws;
}

// The reconnection timers run on a mocked clock, advanced by hand.
const tick = (ms) => mock.timers.tick(ms);

beforeEach(() => {
  FakeSocket.made = [];
  FakeSocket.refuse = false;
  globalThis.WebSocket = FakeSocket;
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(() => {
  mock.timers.reset();
  delete globalThis.WebSocket;
  delete globalThis.location;
});

test("reconnect delays grow and are capped", () => {
  const d = [0, 1, 2, 3, 4, 5, 10, 50].map(backoff);
  for (let i = 1; i < d.length; i++) assert.ok(d[i] >= d[i - 1]);
  assert.equal(d[0], 250);
  // A restarted server is reached again within half a second of answering.
  assert.equal(d[d.length - 1], 500);
});

test("without a base URL it connects to the page's own origin, wss on an https page", () => {
  globalThis.location = { protocol: "https:", host: "lab.example:8443" };
  new Connection({ onEvent() {}, onBinary() {} }).connect();
  assert.equal(latest().url, "wss://lab.example:8443/ws");
  globalThis.location = { protocol: "http:", host: "localhost:8000" };
  new Connection({ onEvent() {}, onBinary() {} }).connect();
  assert.equal(latest().url, "ws://localhost:8000/ws");
});

test("hello opens the session: its id and token are kept and the status says it is new", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  conn.connect();
  const ws = latest();
  assert.equal(ws.url, "ws://h/ws");
  assert.equal(ws.binaryType, "arraybuffer");
  assert.deepEqual(log.status, [["connecting", ""]]);
  assert.equal(conn.send({ type: "play" }), null, "nothing is sent before the socket opens");
  ws.accept();
  const hello = { type: "hello", session: "abc", token: "secret", resumed: false };
  ws.say(hello);
  assert.deepEqual(log.status.at(-1), ["open", "new"]);
  assert.equal(conn.state, "open");
  assert.deepEqual(log.events, [hello]);
  assert.equal(conn.session, "abc");
  assert.equal(conn.token, "secret");
  assert.equal(conn.open, true);
});

test("commands go out as JSON with increasing ids; a run file goes out as a binary envelope", () => {
  const conn = new Connection(recorder().handlers, "ws://h");
  const ws = openSession(conn);
  assert.equal(conn.send({ type: "play" }), 1);
  assert.equal(conn.send({ type: "config", config: { seed: 3 } }), 2);
  assert.deepEqual(ws.sent.map((s) => JSON.parse(s)), [
    { type: "play", id: 1 },
    { type: "config", config: { seed: 3 }, id: 2 },
  ]);
  const bytes = new Uint8Array([5, 6, 7]);
  assert.equal(conn.sendRun(bytes), true);
  const env = decodeEnvelope(ws.sent[2]);
  assert.equal(env.header.kind, "run");
  assert.deepEqual(Array.from(env.payload), [5, 6, 7]);
});

test("a dropped connection is retried after the backoff and resumes the session with its token", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  const first = openSession(conn, "s 1", "t&1");
  conn.drop();
  assert.equal(first.closeRequest.code, 4000);
  first.closed();
  assert.equal(log.status.at(-1)[0], "offline");
  assert.equal(conn.open, false);
  assert.equal(conn.send({ type: "play" }), null);
  tick(backoff(0) - 1);
  assert.equal(FakeSocket.made.length, 1, "no retry before the delay");
  tick(1);
  assert.equal(FakeSocket.made.length, 2);
  const second = latest();
  const url = new URL(second.url);
  assert.equal(url.pathname, "/ws");
  assert.equal(url.searchParams.get("session"), "s 1");
  assert.equal(url.searchParams.get("token"), "t&1");
  assert.deepEqual(log.status.at(-1), ["reconnecting", ""]);
  second.accept();
  second.say({ type: "hello", session: "s 1", token: "t&1", resumed: true });
  assert.deepEqual(log.status.at(-1), ["open", "resumed"]);
  assert.deepEqual(log.lost, []);
});

test("failed attempts wait longer each time; an attempt that opens resets the delay", () => {
  const conn = new Connection(recorder().handlers, "ws://h");
  openSession(conn);
  latest().hangUp(1006);
  for (let n = 0; n < 7; n++) {
    const before = FakeSocket.made.length;
    tick(backoff(n) - 1);
    assert.equal(FakeSocket.made.length, before, `attempt ${n + 1} came early`);
    tick(1);
    assert.equal(FakeSocket.made.length, before + 1, `attempt ${n + 1} did not come after ${backoff(n)} ms`);
    latest().hangUp(1006); // the server is still down
  }
  // The server is back: this attempt opens, then drops again. The wait starts over.
  tick(backoff(7));
  latest().accept();
  latest().hangUp(1006);
  const before = FakeSocket.made.length;
  tick(backoff(0));
  assert.equal(FakeSocket.made.length, before + 1);
});

test("a session the server no longer knows is given up: a new one is asked for at once", () => {
  for (const code of [4403, 4404, 1011]) {
    const { log, handlers } = recorder();
    const conn = new Connection(handlers, "ws://h");
    openSession(conn);
    const made = FakeSocket.made.length;
    latest().hangUp(code, "unknown session");
    assert.deepEqual(log.lost, [code]);
    assert.deepEqual(log.status.at(-1), ["reconnecting", "unknown session"]);
    assert.equal(conn.session, null);
    assert.equal(FakeSocket.made.length, made, "not within the close handler itself");
    tick(0); // the server answered: no backoff
    assert.equal(latest().url, "ws://h/ws", `after ${code}`);
    assert.deepEqual(log.status.at(-1), ["connecting", ""]);
  }
});

test("a session opened in another tab is not fought over: no reconnection", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  openSession(conn);
  latest().hangUp(4409);
  assert.equal(log.status.at(-1)[0], "replaced");
  tick(60000);
  assert.equal(FakeSocket.made.length, 1);
  // The user asks for it back on purpose: the same session is resumed.
  conn.connect();
  assert.match(latest().url, /session=s1&token=t1/);
});

test("closing on purpose says so and does not reconnect", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  const ws = openSession(conn);
  conn.close();
  assert.deepEqual(ws.closeRequest, { code: 1000, reason: "bye" });
  ws.closed();
  assert.deepEqual(log.status.at(-1), ["closed", ""]);
  tick(60000);
  assert.equal(FakeSocket.made.length, 1);
});

test("a pending retry is cancelled by close", () => {
  const conn = new Connection(recorder().handlers, "ws://h");
  openSession(conn);
  latest().hangUp(1006);
  conn.close();
  tick(60000);
  assert.equal(FakeSocket.made.length, 1);
});

test("a socket that cannot even be made counts as offline and is retried", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  FakeSocket.refuse = true;
  conn.connect();
  assert.equal(log.status.at(-1)[0], "offline");
  assert.match(log.status.at(-1)[1], /cannot open ws:\/\/h\/ws/);
  FakeSocket.refuse = false;
  tick(backoff(0));
  assert.equal(FakeSocket.made.length, 1);
  assert.equal(latest().url, "ws://h/ws");
});

test("binary messages are decoded; unreadable text or bytes become error events, not exceptions", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  const ws = openSession(conn);
  ws.sendBytes(encodeEnvelope({ kind: "history", n: 2 }, [
    { name: "h", data: new Float32Array([1, 2]), shape: [2], dtype: "f4" },
  ]));
  assert.equal(log.binary.length, 1);
  assert.equal(log.binary[0].header.n, 2);
  assert.deepEqual(Array.from(log.binary[0].arrays.h.data), [1, 2]);
  ws.say("{not json");
  ws.sendBytes(new ArrayBuffer(3));
  assert.deepEqual(log.events.slice(1).map((e) => [e.type, e.code]), [["error", "bad_json"], ["error", "bad_message"]]);
  assert.equal(log.binary.length, 1);
});

test("late messages and closes from a replaced socket are ignored", () => {
  const { log, handlers } = recorder();
  const conn = new Connection(handlers, "ws://h");
  const old = openSession(conn);
  old.hangUp(1006);
  tick(backoff(0));
  const fresh = latest();
  fresh.accept();
  const events = log.events.length;
  const statuses = log.status.length;
  old.say({ type: "state", stale: true });
  old.hangUp(1006);
  assert.equal(log.events.length, events);
  assert.equal(log.status.length, statuses);
  assert.equal(conn.ws, fresh);
});
