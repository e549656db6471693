// The page's test hook: the narrow, documented surface the browser tests and benchmarks read
// (window.ganlabTest), so that they do not depend on the page's internals. Everything here is
// read-only but `drop()`, which simulates a network failure.
//
//   ready            connected, a config mirrored and a frame drawn
//   settled          the drawn picture shows every change sent (step, reset, config, data)
//   config           the config in effect (a copy)
//   counters()       {iteration, d, g} of the latest drawn frame
//   iteration        the server's latest word on the iteration (a frame drawn, a state, a hello)
//   shownIteration   the iteration the counter shows (a number)
//   frame(names)     arrays and fields of the latest drawn frame, e.g. frame(["fake", "box"])
//   playing          whether the run trains
//   session          the session's id
//   connectionState  "connecting", "open", "reconnecting", "offline", "replaced" or "closed"
//   hello            the server's latest hello message
//   historyLength    metric rows held
//   stats            frames received / drawn / skipped and drawing times (the benchmark's)
//   viewMode         "worker" or "main": where the picture is drawn
//   inFlight         frames handed to the picture's worker and not yet drawn
//   walk             {enabled, pending, network, phase} of slow motion
//   graphFocus       the model graph nodes lit by slow motion (ids), [] when none
//   health           the training-health notice shown: {kind, text} or null
//   distributions    names the picker offers
//   highlight        {view, noise}: the fake sample highlighted in each view (-1: none)
//   viewPoint(i)     where fake sample i is drawn, in CSS pixels from the view canvas' corner
//   noisePoint(i)    where noise point i is drawn, in CSS pixels from the noise canvas' corner
//   axisLabels()     the picture's axis labels now ({x, y}), as drawn
//   chartAxis(id)    a chart's y axis: {labels, size (px), font}, e.g. chartAxis("losses")
//   exportLegend()   the labels the PNG export's legend would have now, in order
//   timeline         the run's history as the page knows it: {known, live, branch, iteration,
//                    start, head, snapshots, branches, seekBusy, replaying} (state/timeline.js)
//   drop()           drop the connection as a network failure would (the run resumes)

import { MARGIN, viewTicks } from "./views/distribution-renderer.js";
import { legendItems } from "./ui/exports.js";

export function installTestHook(app) {
  const frameFields = (f, names) => {
    const out = {};
    for (const name of names) {
      const v = f ? f[name] : undefined;
      out[name] = ArrayBuffer.isView(v) ? Array.from(v) : v;
    }
    return out;
  };
  const hook = {
    get ready() {
      return Boolean(app.run.connected && app.stats.framesRendered > 0 && app.run.config && app.run.frame);
    },
    get settled() {
      return app.settled;
    },
    get config() {
      return app.run.config && JSON.parse(JSON.stringify(app.run.config));
    },
    counters() {
      const f = app.run.frame;
      return f ? { iteration: f.iteration, d: f.dUpdates, g: f.gUpdates } : null;
    },
    get iteration() {
      return app.run.iteration;
    },
    get shownIteration() {
      return Number(document.getElementById("iteration").textContent);
    },
    frame(names) {
      return frameFields(app.run.frame, names);
    },
    get playing() {
      return app.run.playing;
    },
    get session() {
      return app.run.connection.session;
    },
    get connectionState() {
      return app.run.connection.state;
    },
    get hello() {
      return app.run.hello;
    },
    get historyLength() {
      return app.run.history.length;
    },
    get stats() {
      return { ...app.stats, pending: (app.pendingFrame ? 1 : 0) + app.view.inFlight };
    },
    get viewMode() {
      return app.view.mode;
    },
    get inFlight() {
      return app.view.inFlight;
    },
    get walk() {
      const w = app.walk;
      return { enabled: w.enabled, pending: w.pending, network: w.last && w.last.network, phase: w.last && w.last.phase };
    },
    get graphFocus() {
      return app.graph.focus ? [...app.graph.focus.nodes] : [];
    },
    get health() {
      const box = document.getElementById("health");
      return box.hidden ? null : { kind: box.dataset.kind, text: box.textContent };
    },
    get distributions() {
      return app.picker.distributions.map((d) => d.name);
    },
    get highlight() {
      return { view: app.view.highlight, noise: app.noise.highlight };
    },
    viewPoint(i) {
      const v = app.view.viewport;
      const f = app.run.frame;
      return [v.x(f.fake[2 * i]) + MARGIN.left, v.y(f.fake[2 * i + 1]) + MARGIN.top];
    },
    noisePoint(i) {
      const n = app.noise;
      return [n.viewport.x(n.points[2 * i]), n.viewport.y(n.points[2 * i + 1])];
    },
    axisLabels() {
      const t = viewTicks(app.view.viewport);
      return { x: t.x.map((k) => k.label), y: t.y.map((k) => k.label) };
    },
    chartAxis(id) {
      const p = app.charts.plots.find((c) => c.def.id === id);
      const axis = p && p.plot.axes[1];
      return axis ? { labels: axis._values || [], size: axis._size, font: axis.font[0] } : null;
    },
    exportLegend() {
      const legend = app.pngLegend();
      return legendItems(legend.palette, legend.layers, legend.shown, legend.density).map((item) => item.label);
    },
    get timeline() {
      const t = app.run.timeline;
      return {
        known: t.known, live: t.live, branch: t.branch, iteration: t.iteration, start: t.start, head: t.head,
        snapshots: [...t.snapshots], branches: t.branches.map((b) => ({ ...b })),
        seekBusy: app.run.seeks.busy, replaying: app.timelineView.replaying,
      };
    },
    drop() {
      app.run.connection.drop();
    },
  };
  window.ganlabTest = hook;
  return hook;
}
