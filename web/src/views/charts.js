// Live metric charts (uPlot): losses, mean D outputs, KL/JS by grid, Wasserstein-1, modes.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

function lastValue(col) {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) if (col[i] != null) return col[i];
  return null;
}

export function formatValue(v) {
  if (v == null || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  return a >= 1e4 || (a < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(3);
}

const CHARTS = [
  { id: "losses", title: "Loss", series: [["d_loss", "D loss", "discriminator"], ["g_loss", "G loss", "fake"]] },
  { id: "outputs", title: "Mean D output", series: [["d_real", "D(real)", "real"], ["d_fake", "D(fake)", "fake"]] },
  { id: "divergence", title: "Divergence by grid (bits)", series: [["kl_grid", "KL(real‖fake)", "#333"], ["js_grid", "JS", "#e08000"]] },
  { id: "w1", title: "Wasserstein-1 distance", series: [["w1", "W1", "#0a7"]] },
  { id: "modes", title: "Modes covered", series: [["modes_covered", "covered", "fake"], ["modes_total", "of", "#999"]], optional: true },
];

export class Charts {
  constructor(container, history) {
    this.container = container;
    this.history = history;
    this.log = false;
    this.palette = null;
    this.plots = [];
    this.drawnVersion = -1;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  setPalette(palette) {
    this.palette = palette;
    this.build();
  }

  setLog(log) {
    this.log = log;
    this.build();
  }

  color(name) {
    return this.palette && this.palette[name] ? this.palette[name] : name;
  }

  hasModes() {
    return this.history.column("modes_total").some((v) => v !== null && v > 0);
  }

  build() {
    for (const p of this.plots) p.plot.destroy();
    this.container.textContent = "";
    this.plots = [];
    // Every chart is made up front (the modes chart hidden until the data has modes), so
    // nothing is built while training streams.
    for (const def of CHARTS) this.add(def);
    this.syncOptional();
    this.drawnVersion = this.history.version;
  }

  /** Show the modes chart only when the distribution has modes. */
  syncOptional() {
    const want = this.hasModes();
    for (const p of this.plots) if (p.def.optional) p.box.hidden = !want;
    this.shownOptional = want;
  }

  add(def) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.chart = def.id;
    const title = document.createElement("h3");
    title.textContent = def.title;
    box.append(title);
    this.container.append(box);
    const logAllowed = this.log && def.id !== "modes";
    const plot = new uPlot(
      {
        width: this.width(),
        height: 110,
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        legend: { live: true },
        scales: { x: { time: false }, y: logAllowed ? { distr: 4, asinh: 0.001 } : { auto: true } },
        axes: [
          { size: 24, font: "10px system-ui, sans-serif", ticks: { size: 3 }, gap: 2 },
          { size: 44, font: "10px system-ui, sans-serif", ticks: { size: 3 }, gap: 2 },
        ],
        series: [
          { label: "iteration", value: (u, v, si, idx) => { const x = idx == null ? lastValue(u.data[0]) : v; return x == null ? "–" : x.toFixed(0); } },
          ...def.series.map(([, label, color]) => ({
            label,
            stroke: this.color(color),
            width: 1.5,
            spanGaps: true,
            points: { show: false },
            // Hovered: the value under the cursor; otherwise the latest value.
            value: (u, v, si, idx) => formatValue(idx == null ? lastValue(u.data[si]) : v),
          })),
        ],
      },
      this.dataFor(def),
      box,
    );
    this.plots.push({ def, plot, box });
  }

  dataFor(def) {
    return [this.history.column("iteration"), ...def.series.map(([col]) => this.history.column(col))];
  }

  width() {
    return Math.max(200, Math.floor(this.container.clientWidth) - 4);
  }

  resize() {
    const w = this.width();
    for (const p of this.plots) p.plot.setSize({ width: w, height: 110 });
  }

  /** Whether a chart still shows older data than the history holds. */
  get pending() {
    return this.history.version !== this.drawnVersion || this.hasModes() !== this.shownOptional;
  }

  /** Redraw the charts if the history changed since they were drawn; returns true when it
   * drew. The page calls it on its readout tick (a few times a second). */
  update() {
    if (!this.pending) return false;
    if (this.hasModes() !== this.shownOptional) this.syncOptional();
    for (const { def, plot } of this.plots) plot.setData(this.dataFor(def));
    this.drawnVersion = this.history.version;
    return true;
  }
}
