import { test } from "node:test";
import assert from "node:assert/strict";
import { shortcutFor, bindKeys } from "../src/ui/keys.js";

const on = (tagName, extra = {}) => ({ tagName, isContentEditable: false, ...extra });
const key = (k, more = {}) => ({ key: k, code: "", target: on("BODY"), ...more });

test("each shortcut key names its action", () => {
  assert.equal(shortcutFor(key(" ", { code: "Space" })), "play-pause");
  assert.equal(shortcutFor(key("d")), "step-d");
  assert.equal(shortcutFor(key("g")), "step-g");
  assert.equal(shortcutFor(key("b")), "step-both");
  assert.equal(shortcutFor(key("r")), "reset");
  assert.equal(shortcutFor(key("?")), "help");
});

test("Space is recognised by its key or by its code", () => {
  assert.equal(shortcutFor(key(" ")), "play-pause");
  assert.equal(shortcutFor(key("Unidentified", { code: "Space" })), "play-pause");
});

test("other keys, capitals and the other letters are not shortcuts", () => {
  for (const k of ["D", "G", "B", "R", "a", "p", "Enter", "Escape", "ArrowLeft", "toString", "constructor"]) {
    assert.equal(shortcutFor(key(k)), null, k);
  }
});

test("no shortcut while a modifier is held", () => {
  for (const mod of ["ctrlKey", "metaKey", "altKey"]) {
    assert.equal(shortcutFor(key("r", { [mod]: true })), null, mod);
    assert.equal(shortcutFor(key(" ", { [mod]: true })), null, mod);
  }
  assert.equal(shortcutFor(key("?", { shiftKey: true })), "help"); // "?" is typed with Shift
});

test("keys typed into a field stay text", () => {
  for (const tag of ["INPUT", "SELECT", "TEXTAREA"]) assert.equal(shortcutFor(key("r", { target: on(tag) })), null, tag);
  assert.equal(shortcutFor(key("d", { target: on("DIV", { isContentEditable: true }) })), null);
  assert.equal(shortcutFor(key("d", { target: null })), "step-d");
});

test("a focused button keeps Space for itself but not the letters", () => {
  for (const tag of ["BUTTON", "SUMMARY"]) {
    assert.equal(shortcutFor(key(" ", { target: on(tag) })), null, tag);
    assert.equal(shortcutFor(key("b", { target: on(tag) })), "step-both", tag);
  }
});

test("no shortcut while a dialog is open", () => {
  assert.equal(shortcutFor(key("d"), { dialogOpen: true }), null);
  assert.equal(shortcutFor(key(" "), { dialogOpen: true }), null);
});

/** A page with one keydown listener slot and a dialog that may be open. */
function fakeDocument() {
  const doc = {
    listener: null,
    dialogOpen: false,
    addEventListener: (type, fn) => { if (type === "keydown") doc.listener = fn; },
    removeEventListener: (type, fn) => { if (type === "keydown" && doc.listener === fn) doc.listener = null; },
    querySelector: (sel) => (sel === "dialog[open]" && doc.dialogOpen ? {} : null),
  };
  return doc;
}

function press(doc, k, more = {}) {
  const ev = { ...key(k, more), prevented: false, preventDefault() { this.prevented = true; } };
  doc.listener(ev);
  return ev;
}

test("the binder runs the action and prevents only Space's scrolling", () => {
  const doc = fakeDocument();
  const calls = [];
  const names = ["play-pause", "step-d", "step-g", "step-both", "reset", "help"];
  const unbind = bindKeys(doc, Object.fromEntries(names.map((n) => [n, () => calls.push(n)])));
  assert.equal(press(doc, " ").prevented, true);
  assert.equal(press(doc, "d").prevented, false);
  press(doc, "g");
  press(doc, "b");
  press(doc, "r");
  press(doc, "?");
  assert.equal(press(doc, "x").prevented, false);
  assert.deepEqual(calls, names);
  // A focused button presses itself on Space: the page does not also toggle play.
  assert.equal(press(doc, " ", { target: on("BUTTON") }).prevented, false);
  doc.dialogOpen = true;
  assert.equal(press(doc, " ").prevented, false);
  press(doc, "r");
  assert.deepEqual(calls, names);
  unbind();
  assert.equal(doc.listener, null);
});
