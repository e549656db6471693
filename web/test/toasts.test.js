import { test, beforeEach, afterEach, mock } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { Toasts, describeError } from "../src/ui/toasts.js";

let container;

beforeEach(() => {
  const { window } = new JSDOM(`<!doctype html><div id="toasts" role="status"></div>`);
  globalThis.document = window.document;
  container = window.document.getElementById("toasts");
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(() => {
  mock.timers.reset();
  delete globalThis.document;
});

const shown = () => [...container.children].map((t) => t.querySelector("span").textContent);

test("a message appears with its text and kind, and goes away by itself", () => {
  const toasts = new Toasts(container);
  const t = toasts.show("That setting was refused", "error", 5000);
  assert.deepEqual(shown(), ["That setting was refused"]);
  assert.equal(t.dataset.kind, "error");
  assert.ok(t.classList.contains("toast-error"));
  mock.timers.tick(4999);
  assert.equal(container.children.length, 1);
  mock.timers.tick(1);
  assert.equal(container.children.length, 0);
});

test("the default is an error shown for eight seconds; other kinds are styled as such", () => {
  const toasts = new Toasts(container);
  toasts.show("Reconnected", "info");
  toasts.show("Server error");
  assert.deepEqual([...container.children].map((t) => t.className), ["toast toast-info", "toast toast-error"]);
  mock.timers.tick(7999);
  assert.equal(container.children.length, 2);
  mock.timers.tick(1);
  assert.equal(container.children.length, 0);
});

test("the dismiss button removes its own message at once", () => {
  const toasts = new Toasts(container);
  toasts.show("first");
  const second = toasts.show("second");
  const button = second.querySelector("button");
  assert.equal(button.getAttribute("aria-label"), "Dismiss");
  assert.equal(button.type, "button");
  button.click();
  assert.deepEqual(shown(), ["first"]);
  mock.timers.tick(8000); // its timer firing later does no harm
  assert.deepEqual(shown(), []);
});

test("a message with no time limit stays until dismissed", () => {
  const toasts = new Toasts(container);
  const t = toasts.show("Connection lost", "warning", 0);
  mock.timers.tick(10 * 60 * 1000);
  assert.deepEqual(shown(), ["Connection lost"]);
  t.querySelector("button").click();
  assert.deepEqual(shown(), []);
});

test("at most four messages are on screen: the oldest makes way", () => {
  const toasts = new Toasts(container);
  for (let i = 1; i <= 6; i++) toasts.show(`message ${i}`, "error", 0);
  assert.deepEqual(shown(), ["message 3", "message 4", "message 5", "message 6"]);
});

test("message text is shown as text, never parsed as HTML", () => {
  const toasts = new Toasts(container);
  const t = toasts.show("<img src=x onerror=alert(1)>");
  assert.equal(t.querySelector("img"), null);
  assert.deepEqual(shown(), ["<img src=x onerror=alert(1)>"]);
});

test("server errors read as sentences, the field path in small print", () => {
  const label = (path) => ({ "generator.neurons": "Neurons", "training.batch_size": "Batch size" })[path] || null;
  // The server's range message becomes a sentence with the setting's label.
  assert.deepEqual(
    describeError({ code: "invalid_config", field: "generator.neurons", message: "must be <= 512, got 600" }, label),
    { text: "Neurons can be at most 512.", detail: "generator.neurons" },
  );
  assert.deepEqual(
    describeError({ code: "invalid_config", field: "training.batch_size", message: "training.batch_size: must be <= 4096, got 5000" }, label),
    { text: "Batch size can be at most 4,096.", detail: "training.batch_size" },
  );
  assert.equal(describeError({ code: "invalid_config", field: "loss.clip", message: "must be > 0.0, got 0" }).text, "Clip must be more than 0.0.");
  assert.equal(
    describeError({ code: "invalid_config", field: "loss.kind", message: "must be one of 'log', 'hinge', got 'x'" }, () => "Loss").text,
    "Loss must be one of log, hinge.",
  );
  // Other messages: a prefix that says what was refused, made a sentence.
  assert.equal(describeError({ code: "rate_limited", message: "slow down" }).text, "Too many commands at once: slow down.");
  assert.equal(describeError({ code: "busy", message: "wait" }).text, "The server is still busy with this run's earlier requests: wait.");
  assert.equal(describeError({ code: "internal", message: "boom" }).text, "The server hit a problem and paused training: boom.");
  assert.equal(describeError({ code: "bad_run_file", message: "not a run" }).text, "The run file was refused: not a run.");
  assert.equal(describeError({ code: "whatever", message: "plain words" }).text, "Plain words.");
  assert.equal(describeError({ code: "no_message" }).text, "No_message.");
  assert.equal(describeError({}).text, "Unknown error.");
});

test("a message's detail is shown in small print after it", () => {
  const toasts = new Toasts(container);
  const t = toasts.show("Neurons can be at most 512.", "error", 0, "generator.neurons");
  assert.equal(t.querySelector("small").textContent, "generator.neurons");
});
