// Keyboard shortcuts. `shortcutFor` maps a key event to the name of its action (pure, so the
// rules can be tested without a page); `bindKeys` listens on the page and runs that action.

// Letters are case-sensitive: Shift+D is not a shortcut.
// "," and "." step the shown point back and forward between the history's snapshots.
const LETTERS = new Map([["d", "step-d"], ["g", "step-g"], ["b", "step-both"], ["r", "reset"], ["?", "help"],
  [",", "history-back"], [".", "history-forward"]]);
// Fields where a key is text, not a command.
const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);
// A focused button or summary takes Space itself (it presses it).
const SPACE_TAKERS = new Set(["BUTTON", "SUMMARY"]);

/** The action a key event asks for ("play-pause", "step-d", "step-g", "step-both", "reset",
 * "help", "history-back", "history-forward"), or null: none while a modifier is held, a field has focus or a dialog is open. */
export function shortcutFor(ev, { dialogOpen = false } = {}) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  const t = ev.target;
  const tag = t && t.tagName;
  if (TYPING.has(tag) || (t && t.isContentEditable)) return null;
  if (dialogOpen) return null;
  if (ev.key === " " || ev.code === "Space") return SPACE_TAKERS.has(tag) ? null : "play-pause";
  return LETTERS.get(ev.key) ?? null;
}

/** Listen on `doc` and call `actions[name]()` for each shortcut. Space's default (scrolling
 * the page) is prevented; other keys keep theirs. */
export function bindKeys(doc, actions) {
  const listener = (ev) => {
    const name = shortcutFor(ev, { dialogOpen: Boolean(doc.querySelector("dialog[open]")) });
    if (!name) return;
    if (name === "play-pause") ev.preventDefault();
    actions[name]();
  };
  doc.addEventListener("keydown", listener);
  return () => doc.removeEventListener("keydown", listener);
}
