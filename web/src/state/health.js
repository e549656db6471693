// Training health in plain words: whether the run diverged, collapsed or crawls, with a
// suggestion of what to change. Pure: it sees only the frames, metric rows and times it is
// given (never the clock), so every rule is unit tested (web/test/health.test.js).

export const HEALTH_DEFAULTS = {
  // Iterations before a collapse is judged: every run starts with G's samples bunched up
  // (a freshly initialised generator maps the noise to a small blob).
  warmup: 500,
  // A collapse must last this many iterations and metric rows (or frames) to be reported, so
  // that a run passing through one bad moment is not called collapsed.
  window: 300,
  minRows: 3,
  // Diverged when the median fake is this many view half-sizes from the real data's centre.
  // The view box is fitted around the real data, so its half-size is about the data's own
  // reach: a healthy generator, even an untrained or overshooting one, keeps most of its
  // samples within one or two half-sizes of the data. At five, more than half the fakes sit
  // several picture-widths off screen, which a recovering run does not do but a diverging
  // one (weights growing step after step) passes on its way out within a few iterations.
  farFactor: 5,
  // Collapsed (data without modes) when the fakes' spread is under this fraction of the
  // real data's: they cover a spot a twentieth as wide as the data.
  spreadFraction: 0.05,
  // Slow: playing at under this many iterations per second for slowMs milliseconds.
  slowIps: 5,
  slowMs: 3000,
};

/** Whether a value is a finite number. */
const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** Whether a flat array holds a NaN or an infinity. */
function hasNonFinite(values) {
  if (!values) return false;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return true;
  return false;
}

/** Whether a frame's losses hold a non-finite value. The server sends those as null (JSON has
 * no NaN); a frame before the first update has no losses at all. */
function lossesNonFinite(losses) {
  if (!losses) return false;
  return Object.values(losses).some((v) => v === null || (typeof v === "number" && !Number.isFinite(v)));
}

/** Mean and spread (square root of the trace of the covariance) of flat xy points. */
export function pointStats(flat) {
  const n = Math.floor(flat.length / 2);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += flat[2 * i];
    sy += flat[2 * i + 1];
  }
  const cx = n ? sx / n : 0;
  const cy = n ? sy / n : 0;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (flat[2 * i] - cx) ** 2 + (flat[2 * i + 1] - cy) ** 2;
  return { cx, cy, spread: n ? Math.sqrt(ss / n) : 0, n };
}

/** Median distance of flat xy points from (cx, cy). */
export function medianDistance(flat, cx, cy) {
  const n = Math.floor(flat.length / 2);
  if (n === 0) return 0;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.hypot(flat[2 * i] - cx, flat[2 * i + 1] - cy);
  d.sort();
  return n % 2 ? d[(n - 1) / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/** A learning rate worth trying after a divergence: 0.001, or a tenth of the current rates
 * when they already are that low. */
export function suggestedRate(config) {
  const rates = config ? [config.g_optimizer && config.g_optimizer.lr, config.d_optimizer && config.d_optimizer.lr].filter(finite) : [];
  const lr = rates.length ? Math.min(...rates) : Infinity;
  return lr > 0.001 ? 0.001 : Number((lr / 10).toPrecision(1));
}

/** Whether D never updates (then fakes that run off are no learning-rate problem). */
function frozenD(config) {
  return Boolean(config && config.training && config.training.d_steps === 0);
}

/** Watches frames and metric rows and says, in words, what is wrong with the training. */
export class HealthMonitor {
  constructor(options = {}) {
    this.options = { ...HEALTH_DEFAULTS, ...options };
    this.config = null;
    this.speedLimit = null;
    this.reset();
  }

  /** Forget the run (after Reset or a load). The config and speed limit stay. */
  reset() {
    this.nonFinite = false;
    this.far = false;
    this.lastIteration = null;
    this.spreadRun = null; // { start, last, count }: frames in a row with bunched-up fakes
    this.slowSince = null;
    this.now = null;
    this.ips = null;
    this.modes = { total: null, covered: null, collapsed: false };
  }

  /** The config in effect: only its learning rates, for the suggestion after a divergence. */
  setConfig(config) {
    this.config = config;
  }

  /** The speed the user capped the run at (it/s, null = none): a run held below 5 it/s on
   * purpose is not slow; only one under half its cap is. */
  setSpeedLimit(ips) {
    this.speedLimit = finite(ips) && ips > 0 ? ips : null;
  }

  /** Take in a frame (see prepareFrame) that arrived at `nowMs` (any monotonic clock). */
  observeFrame(frame, nowMs) {
    const o = this.options;
    const it = frame.iteration;
    // The count went back: a reset or a load started another run.
    if (this.lastIteration !== null && finite(it) && it < this.lastIteration) this.reset();

    this.nonFinite = hasNonFinite(frame.fake) || lossesNonFinite(frame.losses);
    const real = frame.real && frame.real.length >= 2 ? pointStats(frame.real) : null;
    const box = frame.box;
    this.far = false;
    if (!this.nonFinite && real && box && frame.fake && frame.fake.length >= 2) {
      const half = Math.max(box[1] - box[0], box[3] - box[2]) / 2;
      this.far = half > 0 && medianDistance(frame.fake, real.cx, real.cy) > o.farFactor * half;
    }

    // Collapse without modes: the fakes' spread against the data's, frame after frame.
    const fake = !this.nonFinite && frame.fake && frame.fake.length >= 2 ? pointStats(frame.fake) : null;
    const bunched = Boolean(real && fake && real.spread > 0 && fake.spread < o.spreadFraction * real.spread);
    if (!bunched || !finite(it) || it < o.warmup) this.spreadRun = null;
    else if (!this.spreadRun) this.spreadRun = { start: it, last: it, count: 1 };
    else if (it > this.spreadRun.last) {
      // A frame of the same iteration (paused, a layer toggled) is no more evidence.
      this.spreadRun.last = it;
      this.spreadRun.count++;
    }
    if (finite(it)) this.lastIteration = it;

    this.now = nowMs;
    this.ips = frame.ips;
    const limit = this.speedLimit === null ? o.slowIps : Math.min(o.slowIps, this.speedLimit / 2);
    if (frame.playing && finite(frame.ips) && frame.ips < limit) {
      if (this.slowSince === null) this.slowSince = nowMs;
    } else {
      this.slowSince = null;
    }
  }

  /** Take in the metric history (a History): the modes the fakes cover, row by row. */
  observeHistory(history) {
    const o = this.options;
    const iterations = history.column("iteration");
    const covered = history.column("modes_covered");
    const total = history.column("modes_total");
    const modes = { total: null, covered: null, collapsed: false };
    let count = 0;
    let first = null;
    let last = null;
    // The latest rows that count modes, newest first, while they cover at most one.
    for (let i = iterations.length - 1; i >= 0; i--) {
      const c = covered[i];
      const t = total[i];
      const it = iterations[i];
      if (c == null || t == null || it == null) continue; // a row without the mode count
      if (modes.total === null) {
        modes.total = t;
        modes.covered = c;
      }
      if (c > 1 || it < o.warmup) break;
      count++;
      first = it;
      if (last === null) last = it;
    }
    modes.collapsed = modes.total > 1 && count >= o.minRows && last - first >= o.window;
    this.modes = modes;
  }

  /** null while the training looks healthy (or there is nothing to say yet), else
   * { kind: "diverged" | "collapsed" | "slow", text, suggestion }. */
  status() {
    const o = this.options;
    if (this.nonFinite || this.far) {
      return {
        kind: "diverged",
        text: this.nonFinite
          ? "Training diverged: the numbers grew past what a computer can hold (infinity or NaN)."
          : "Training diverged: the fake samples flew far outside the picture.",
        suggestion: frozenD(this.config)
          ? "The discriminator is frozen (0 D updates per iteration), so nothing holds the fakes back: give D at least one update per iteration and press Reset."
          : `Lower the learning rates (try ${suggestedRate(this.config)}) and press Reset.`,
      };
    }
    const collapseHelp = "Give D more steps per iteration, lower G's learning rate or try the WGAN-GP loss, then press Reset.";
    if (this.modes.total > 1) {
      if (this.modes.collapsed) {
        const c = this.modes.covered;
        const how = c === 0 ? "none" : `only ${c}`;
        return {
          kind: "collapsed",
          text: `Mode collapse: the fake samples cover ${how} of the ${this.modes.total} modes of the data.`,
          suggestion: collapseHelp,
        };
      }
    } else if (this.spreadRun && this.spreadRun.count >= o.minRows && this.spreadRun.last - this.spreadRun.start >= o.window) {
      return {
        kind: "collapsed",
        text: "Mode collapse: the fake samples have bunched up in a small spot instead of spreading over the data.",
        suggestion: collapseHelp,
      };
    }
    if (this.slowSince !== null && this.now - this.slowSince >= o.slowMs) {
      const ips = this.ips >= 10 ? String(Math.round(this.ips)) : this.ips.toFixed(1);
      return {
        kind: "slow",
        text: `Training is slow: ${ips} iterations a second.`,
        suggestion: "Try a smaller batch size or fewer neurons, or compute the metrics less often.",
      };
    }
    return null;
  }
}
