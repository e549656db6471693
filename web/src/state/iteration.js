/**
 * The iteration the page shows: the server's latest word, in the order its messages arrived.
 *
 * A frame is drawn on the next animation frame, not when it arrives, so a `state` or `hello`
 * message that arrived after it (a pause, a resume) is newer news than the frame's iteration
 * and must not be overwritten by it.
 */
export class IterationCounter {
  constructor() {
    this.arrivals = 0;
    this.toldAt = 0;
    this.value = null;
    this.dUpdates = null;
    this.gUpdates = null;
  }

  /** A frame arrived: its ticket, to hand back when it is drawn. */
  frameArrived() {
    return ++this.arrivals;
  }

  /** A text message gave the iteration (and the update counters of the same moment, so the
   * counters shown always come from one message and agree). */
  told(iteration, dUpdates = null, gUpdates = null) {
    this.toldAt = ++this.arrivals;
    this.value = iteration;
    if (dUpdates !== null && dUpdates !== undefined) {
      this.dUpdates = dUpdates;
      this.gUpdates = gUpdates;
    }
  }

  /** A frame with this ticket is drawn: true when its iteration is the latest word. */
  drawn(ticket, iteration, dUpdates = null, gUpdates = null) {
    if (ticket <= this.toldAt) return false;
    this.value = iteration;
    if (dUpdates !== null && dUpdates !== undefined) {
      this.dUpdates = dUpdates;
      this.gUpdates = gUpdates;
    }
    return true;
  }
}
