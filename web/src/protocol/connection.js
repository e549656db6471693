// One websocket to /ws (docs/protocol.md): JSON commands out, JSON events and binary
// envelopes in, automatic reconnection that resumes the session with its token.
import { decodeEnvelope, encodeEnvelope } from "./envelope.js";

const NEW_SESSION_CODES = new Set([4403, 4404, 1011]); // bad_token, unknown_session, session_lost
const REPLACED = 4409;

/** The longest wait between reconnection attempts (ms). An attempt on a server that is down
 * fails at once and costs nothing, and a page must be live again within seconds of its
 * server answering (after a restart), so the wait stays short. */
export const RECONNECT_MAX_MS = 500;

/** Delay before reconnect attempt `n` (0-based): exponential, capped, no randomness needed. */
export function backoff(n) {
  return Math.min(250 * 2 ** n, RECONNECT_MAX_MS);
}

export class Connection {
  /**
   * @param {object} handlers onEvent(msg), onBinary({header, arrays}), onStatus(state, detail)
   * @param {string} [base] ws:// or wss:// base URL; defaults to the page's own origin
   */
  constructor(handlers, base = null) {
    this.handlers = handlers;
    this.base = base || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
    this.session = null;
    this.token = null;
    this.ws = null;
    this.nextId = 1;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.state = "connecting";
    this.connectedOnce = false;
  }

  url() {
    if (this.session && this.token) {
      const q = new URLSearchParams({ session: this.session, token: this.token });
      return `${this.base}/ws?${q}`;
    }
    return `${this.base}/ws`;
  }

  connect() {
    clearTimeout(this.timer);
    this.stopped = false;
    const resuming = Boolean(this.session);
    this.setStatus(resuming ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.setStatus("offline", String(err));
      this.schedule();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === "string") {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          this.handlers.onEvent({ type: "error", code: "bad_json", message: "the server sent unreadable text" });
          return;
        }
        if (msg.type === "hello") {
          this.session = msg.session;
          this.token = msg.token;
          this.connectedOnce = true;
          this.setStatus("open", msg.resumed ? "resumed" : "new");
        }
        this.handlers.onEvent(msg);
      } else {
        let decoded;
        try {
          decoded = decodeEnvelope(ev.data);
        } catch (err) {
          this.handlers.onEvent({ type: "error", code: "bad_message", message: `unreadable binary message: ${err.message}` });
          return;
        }
        this.handlers.onBinary(decoded);
      }
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.stopped) {
        this.setStatus("closed");
        return;
      }
      if (ev.code === REPLACED) {
        this.setStatus("replaced", "this session was opened in another tab");
        return; // do not fight the other tab; the user reconnects on purpose
      }
      if (NEW_SESSION_CODES.has(ev.code)) {
        // The old session cannot be resumed: start a new one.
        this.session = null;
        this.token = null;
        this.handlers.onSessionLost?.(ev.code);
        // The server answered: ask it for a new session at once.
        this.setStatus("reconnecting", ev.reason || "starting a new session");
        this.timer = setTimeout(() => this.connect(), 0);
        return;
      }
      this.setStatus("offline", ev.reason || `connection closed (${ev.code})`);
      this.schedule();
    };
    ws.onerror = () => {
      // onclose follows and handles it.
    };
  }

  schedule() {
    clearTimeout(this.timer);
    const delay = backoff(this.attempt++);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Drop the connection as if the network failed (the session is kept and resumed). */
  drop() {
    if (this.ws) this.ws.close(4000, "dropped by client");
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
  }

  get open() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
  }

  /** Send a command; returns its id, or null when not connected. */
  send(command) {
    if (!this.open) return null;
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...command, id }));
    return id;
  }

  /** Send a run file (bytes) for `load`. */
  sendRun(bytes) {
    if (!this.open) return false;
    this.ws.send(encodeEnvelope({ kind: "run" }, [], bytes));
    return true;
  }

  setStatus(state, detail = "") {
    this.state = state;
    this.handlers.onStatus?.(state, detail);
  }
}
