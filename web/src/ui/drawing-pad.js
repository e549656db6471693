// The drawing pad: strokes with mouse, pen or touch (pointer events), brush width, undo, clear,
// cancel, apply. Strokes are kept in the unit square with y UP, resampled by arc length so
// their point density does not depend on drawing speed. An empty drawing cannot be applied.
import { padToUnit, resampleStroke } from "../views/math.js";

export const SEND_SPACING = 0.01; // vertex spacing of the strokes sent (unit square)
const MAX_VERTICES = 20000;

export class DrawingPad {
  constructor({ dialog, canvas, brush, brushValue, undo, clear, cancel, apply }, { onApply, background }) {
    Object.assign(this, { dialog, canvas, brush, brushValue, undoButton: undo, clearButton: clear, applyButton: apply });
    this.onApply = onApply;
    this.background = background; // () => {fake, real, box} or null, drawn faintly for reference
    this.strokes = [];
    this.current = null;
    this.ctx = canvas.getContext("2d");
    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", (ev) => this.down(ev));
    canvas.addEventListener("pointermove", (ev) => this.move(ev));
    canvas.addEventListener("pointerup", (ev) => this.up(ev));
    canvas.addEventListener("pointercancel", (ev) => this.up(ev));
    brush.addEventListener("input", () => {
      brushValue.textContent = Number(brush.value).toFixed(3);
      this.render();
    });
    undo.addEventListener("click", () => {
      this.strokes.pop();
      this.changed();
    });
    clear.addEventListener("click", () => {
      this.strokes = [];
      this.changed();
    });
    cancel.addEventListener("click", () => this.close());
    apply.addEventListener("click", () => {
      if (this.isEmpty()) return;
      this.onApply({ strokes: this.strokesToSend(), brush_width: Number(this.brush.value) });
      this.close();
    });
    dialog.addEventListener("cancel", () => this.close());
  }

  open() {
    if (!this.dialog.open) this.dialog.showModal();
    // Measure once shown: the pad's size follows the screen.
    const dpr = window.devicePixelRatio || 1;
    this.size = this.canvas.getBoundingClientRect().width || 360;
    this.dpr = dpr;
    this.canvas.width = Math.round(this.size * dpr);
    this.canvas.height = Math.round(this.size * dpr);
    this.changed();
  }

  close() {
    this.current = null;
    if (this.dialog.open) this.dialog.close();
  }

  isEmpty() {
    return this.strokes.length === 0;
  }

  strokesToSend() {
    let strokes = this.strokes.map((s) => resampleStroke(s, SEND_SPACING));
    let total = strokes.reduce((n, s) => n + s.length, 0);
    let spacing = SEND_SPACING;
    while (total > MAX_VERTICES) {
      spacing *= 2;
      strokes = this.strokes.map((s) => resampleStroke(s, spacing));
      total = strokes.reduce((n, s) => n + s.length, 0);
    }
    return strokes.map((s) => s.map(([x, y]) => [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000]));
  }

  point(ev) {
    const r = this.canvas.getBoundingClientRect();
    return padToUnit(ev.clientX - r.left, ev.clientY - r.top, r.width);
  }

  down(ev) {
    if (ev.button !== undefined && ev.button > 0) return;
    ev.preventDefault();
    this.canvas.setPointerCapture(ev.pointerId);
    this.current = { id: ev.pointerId, points: [this.point(ev)] };
    this.render();
  }

  move(ev) {
    if (!this.current || ev.pointerId !== this.current.id) return;
    const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
    for (const e of events.length ? events : [ev]) this.current.points.push(this.point(e));
    this.render();
  }

  up(ev) {
    if (!this.current || ev.pointerId !== this.current.id) return;
    this.strokes.push(resampleStroke(this.current.points, 0.003));
    this.current = null;
    this.changed();
  }

  changed() {
    const empty = this.isEmpty();
    this.applyButton.disabled = empty;
    this.undoButton.disabled = empty;
    this.clearButton.disabled = empty;
    this.render();
  }

  render() {
    const ctx = this.ctx;
    const s = this.size || 360;
    ctx.setTransform(this.dpr || 1, 0, 0, this.dpr || 1, 0, 0);
    ctx.clearRect(0, 0, s, s);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, s, s);
    ctx.strokeStyle = "#eee";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 1; i < 10; i++) {
      ctx.moveTo((i * s) / 10, 0);
      ctx.lineTo((i * s) / 10, s);
      ctx.moveTo(0, (i * s) / 10);
      ctx.lineTo(s, (i * s) / 10);
    }
    ctx.stroke();
    const width = Number(this.brush.value) * s;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    const draw = (pts, color) => {
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x * s, (1 - y) * s) : ctx.moveTo(x * s, (1 - y) * s)));
      if (pts.length === 1) {
        ctx.arc(pts[0][0] * s, (1 - pts[0][1]) * s, width / 2, 0, 2 * Math.PI);
        ctx.fill();
      } else ctx.stroke();
    };
    ctx.globalAlpha = 0.35;
    for (const st of this.strokes) draw(st, "rgb(0, 136, 55)");
    if (this.current) draw(this.current.points, "rgb(0, 136, 55)");
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1.5;
    for (const st of this.strokes) {
      ctx.strokeStyle = "rgb(0, 90, 36)";
      ctx.beginPath();
      st.forEach(([x, y], i) => (i ? ctx.lineTo(x * s, (1 - y) * s) : ctx.moveTo(x * s, (1 - y) * s)));
      ctx.stroke();
    }
    if (this.isEmpty() && !this.current) {
      ctx.fillStyle = "#999";
      ctx.font = "14px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("draw here", s / 2, s / 2);
    }
  }
}
