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
  }

  /** A frame arrived: its ticket, to hand back when it is drawn. */
  frameArrived() {
    return ++this.arrivals;
  }

  /** A text message gave the iteration. */
  told(iteration) {
    this.toldAt = ++this.arrivals;
    this.value = iteration;
  }

  /** A frame with this ticket is drawn: true when its iteration is the latest word. */
  drawn(ticket, iteration) {
    if (ticket <= this.toldAt) return false;
    this.value = iteration;
    return true;
  }
}
