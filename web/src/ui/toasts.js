// Readable messages: server errors, refused imports, connection news. Never a frozen page.
export class Toasts {
  constructor(container) {
    this.container = container;
  }

  /** Show `text`; `detail` (e.g. the setting's path) follows in small print. */
  show(text, kind = "error", ms = 8000, detail = "") {
    const doc = this.container.ownerDocument;
    const t = doc.createElement("div");
    t.className = `toast toast-${kind}`;
    t.dataset.kind = kind;
    const msg = doc.createElement("span");
    msg.textContent = text;
    if (detail) {
      const small = doc.createElement("small");
      small.textContent = detail;
      msg.append(small);
    }
    const close = doc.createElement("button");
    close.type = "button";
    close.className = "icon-button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => t.remove());
    t.append(msg, close);
    this.container.append(t);
    while (this.container.children.length > 4) this.container.firstElementChild.remove();
    if (ms) setTimeout(() => t.remove(), ms);
    return t;
  }
}

const BOUNDS = [
  [/must be <= (\S+?),? got/, "can be at most"],
  [/must be >= (\S+?),? got/, "must be at least"],
  [/must be < (\S+?),? got/, "must be less than"],
  [/must be > (\S+?),? got/, "must be more than"],
];

/** Write numbers of 1,000 or more with separators ("4,096"). */
function readable(text) {
  const n = Number(text);
  return Number.isFinite(n) && Math.abs(n) >= 1000 && Number.isInteger(n) ? n.toLocaleString("en-US") : text;
}

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

function sentence(text) {
  const t = text.trim();
  if (!t) return t;
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * A server `error` event as a sentence a learner reads, and the field path for small print:
 * `{text, detail}`. `label(path)` names a setting ("Neurons"); ranges become "Neurons can be
 * at most 512."
 */
export function describeError(e, label = () => null) {
  const field = e.field || "";
  let message = e.message || e.code || "unknown error";
  if (field && message.startsWith(`${field}: `)) message = message.slice(field.length + 2);
  const name = (field && label(field)) || (field ? field.split(".").pop().replace(/_/g, " ") : "");
  for (const [pattern, words] of BOUNDS) {
    const m = message.match(pattern);
    if (m && name) return { text: `${capital(name)} ${words} ${readable(m[1])}.`, detail: field };
  }
  const oneOf = message.match(/must be one of (.+?), got/);
  if (oneOf && name) return { text: `${capital(name)} must be one of ${oneOf[1].replace(/[[\]']/g, "")}.`, detail: field };
  const prefix = {
    invalid_config: name ? `${capital(name)}: ` : "That setting was refused: ",
    invalid_points: "The file was refused: ",
    bad_run_file: "The run file was refused: ",
    rate_limited: "Too many commands at once: ",
    busy: "The server is still busy with this run's earlier requests: ",
    too_large: "Too large: ",
    internal: "The server hit a problem and paused training: ",
  }[e.code] || "";
  return { text: sentence(prefix + message), detail: field };
}
