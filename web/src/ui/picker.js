// The distribution picker: the button that shows the current data (thumbnail and name) and
// its popover, a grid with a thumbnail of every distribution plus "Draw one" and "Import".
import { scatter } from "../views/thumbnails.js";

/** Side of a thumbnail in the grid (canvas pixels). */
export const THUMB_SIZE = 72;
// The popover keeps this far from the window's edges, and this far below the button (px).
const EDGE = 8;
const GAP = 6;
const ARROWS = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: "up", ArrowDown: "down", Home: "home", End: "end" };

/** The index focus moves to from `index` among `count` items in rows of `columns`. */
export function nextIndex(index, key, count, columns) {
  const step = ARROWS[key];
  let to;
  if (step === "up") to = index - columns;
  else if (step === "down") to = index + columns;
  else if (step === "home") to = 0;
  else if (step === "end") to = count - 1;
  else to = index + step;
  return to < 0 || to >= count ? index : to;
}

/** What the button calls data `name`: its title, or words for data the user brought. */
export function dataLabel(name, distributions) {
  if (name === "drawing") return "your drawing";
  if (name === "points") return "imported points";
  const d = distributions.find((x) => x.name === name);
  return d ? d.title : name;
}

/** The points a distribution's thumbnail shows: its shipped samples, or else the means of its
 * modes (none at all draws an empty box). */
export function thumbPoints(d, samples) {
  const s = samples[d.name];
  if (s) return { points: Float32Array.from(s.points.flat()), box: s.box };
  return { points: Float32Array.from((d.modes || []).flatMap((m) => m.mean)), box: d.box };
}

/** Where the popover opens: under the button, moved left if it would leave the window. */
export function popoverPlace(buttonRect, popoverWidth, windowWidth) {
  return {
    left: Math.max(EDGE, Math.min(buttonRect.left, windowWidth - popoverWidth - EDGE)),
    top: buttonRect.bottom + GAP,
  };
}

export class DistributionPicker {
  /**
   * els: { button, popover, grid, thumb, name } (the button's thumbnail canvas and name span).
   * palette(): the palette in use; current(): { name, frame } of the data shown, or null.
   * onChoose(name), onDraw(), onImport(): what the grid's buttons do once the popover closes.
   */
  constructor(els, { palette, current, onChoose, onDraw, onImport }) {
    this.els = els;
    this.palette = palette;
    this.current = current;
    this.onChoose = onChoose;
    this.onDraw = onDraw;
    this.onImport = onImport;
    this.distributions = [];
    this.samples = {};
    const { button, popover } = els;
    button.addEventListener("click", () => this.toggle(popover.hidden));
    // A press anywhere else closes it, as Escape does (which gives the focus back).
    popover.ownerDocument.addEventListener("pointerdown", (ev) => {
      if (!popover.hidden && !popover.contains(ev.target) && !button.contains(ev.target)) this.toggle(false);
    });
    popover.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        this.toggle(false);
        button.focus();
      } else if (ARROWS[ev.key] !== undefined) {
        ev.preventDefault();
        this.moveFocus(ev.key);
      }
    });
  }

  /** The server's list of distributions and the shipped samples drawn in their thumbnails. */
  setCatalogue(distributions, samples) {
    this.distributions = distributions;
    this.samples = samples;
    this.build();
  }

  /** Arrow keys move the focus through the grid, row by row. */
  moveFocus(key) {
    const items = [...this.els.grid.querySelectorAll("button")];
    const at = items.indexOf(this.els.grid.ownerDocument.activeElement);
    const first = items[0];
    const columns = first ? Math.max(1, items.filter((b) => b.offsetTop === first.offsetTop).length) : 1;
    const to = nextIndex(Math.max(0, at), key, items.length, columns);
    if (items[to]) items[to].focus();
  }

  toggle(open) {
    const { button, popover } = this.els;
    popover.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      const view = popover.ownerDocument.defaultView;
      const place = popoverPlace(button.getBoundingClientRect(), popover.offsetWidth, view.innerWidth);
      popover.style.left = `${place.left}px`;
      popover.style.top = `${place.top}px`;
      // Keep it inside the window: it scrolls when it is taller than the space below the button.
      popover.style.maxHeight = `${Math.max(160, view.innerHeight - place.top - EDGE)}px`;
      const current = popover.querySelector("[aria-selected='true']") || popover.querySelector(".dist-grid button");
      if (current) current.focus();
    }
  }

  /** (Re)make the grid: when the catalogue arrives and when the palette changes. */
  build() {
    const { grid } = this.els;
    if (!grid || !this.distributions.length) return;
    const doc = grid.ownerDocument;
    grid.textContent = "";
    const p = this.palette();
    for (const d of this.distributions) {
      const b = doc.createElement("button");
      b.className = "dist-item";
      b.dataset.dist = d.name;
      b.setAttribute("data-testid", `dist-${d.name}`);
      b.setAttribute("role", "option");
      b.title = d.description;
      const c = doc.createElement("canvas");
      c.width = THUMB_SIZE;
      c.height = THUMB_SIZE;
      this.drawThumb(c, d, p);
      const label = doc.createElement("span");
      label.textContent = d.title;
      b.append(c, label);
      b.addEventListener("click", () => {
        this.toggle(false);
        this.els.button.focus(); // the keyboard goes back to where it came from
        this.onChoose(d.name);
      });
      grid.append(b);
    }
    const draw = doc.createElement("button");
    draw.className = "dist-item dist-draw";
    draw.innerHTML = "<span class='big'>✎</span><span>Draw one</span>";
    draw.setAttribute("data-testid", "dist-draw");
    draw.title = "Draw your own distribution with the mouse, a pen or a finger";
    draw.addEventListener("click", () => {
      this.toggle(false);
      this.onDraw();
    });
    const imp = doc.createElement("button");
    imp.className = "dist-item dist-import";
    imp.innerHTML = "<span class='big'>⇪</span><span>Import CSV / JSON</span>";
    imp.setAttribute("data-testid", "dist-import");
    imp.title = "Import points from a CSV file (x,y rows) or a JSON list of [x, y] pairs";
    imp.addEventListener("click", () => {
      this.toggle(false);
      this.onImport();
    });
    grid.append(draw, imp);
    this.drawCurrentThumb();
  }

  /** The button shows the current data: its name and its thumbnail; the grid marks it. */
  showCurrent() {
    const current = this.current();
    if (!current) return;
    this.els.name.textContent = dataLabel(current.name, this.distributions);
    const items = this.els.grid ? this.els.grid.querySelectorAll("[data-dist]") : [];
    for (const b of items) b.setAttribute("aria-selected", String(b.dataset.dist === current.name));
    this.drawCurrentThumb();
  }

  /** A frame was drawn: data of the user's own is drawn from the latest frame's real samples
   * (so the thumbnail follows each new drawing or import, never one behind). */
  frameDrawn(frame) {
    const current = this.current();
    if (!current || this.distributions.some((x) => x.name === current.name)) return;
    if (this.thumbFrom === frame) return;
    this.thumbFrom = frame;
    scatter(this.els.thumb, frame.real, frame.box, this.palette().real);
  }

  drawThumb(canvas, d, p) {
    const { points, box } = thumbPoints(d, this.samples);
    scatter(canvas, points, box, p.real);
  }

  drawCurrentThumb() {
    const current = this.current();
    if (!current) return;
    const d = this.distributions.find((x) => x.name === current.name);
    const p = this.palette();
    // Data of the user's own (a drawing, imported points) has no entry: its first frame draws
    // it (frameDrawn); until then the thumbnail is left blank rather than show the old data.
    if (d) this.drawThumb(this.els.thumb, d, p);
    else {
      this.thumbFrom = null;
      scatter(this.els.thumb, new Float32Array(0), [0, 1, 0, 1], p.real);
    }
  }
}
