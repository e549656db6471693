// Readable messages: server errors, refused imports, connection news. Never a frozen page.
export class Toasts {
  constructor(container) {
    this.container = container;
  }

  show(text, kind = "error", ms = 8000) {
    const t = document.createElement("div");
    t.className = `toast toast-${kind}`;
    t.dataset.kind = kind;
    const msg = document.createElement("span");
    msg.textContent = text;
    const close = document.createElement("button");
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

/** A readable sentence for a server `error` event. */
export function describeError(e) {
  const field = e.field ? `${e.field}: ` : "";
  const message = e.message || e.code || "unknown error";
  const prefix = {
    invalid_config: "That setting was refused",
    invalid_points: "The file was refused",
    bad_run_file: "The run file was refused",
    rate_limited: "Too many commands at once",
    too_large: "Too large",
    internal: "The server hit a problem (training paused)",
  }[e.code];
  const body = message.startsWith(field) ? message : field + message;
  return prefix ? `${prefix}: ${body}` : body;
}
