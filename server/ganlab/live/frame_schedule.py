"""When a live session draws its next frame: the client's frame rate, the frames it may
have in flight (credits), and, when sessions share an engine process, a frame rate low
enough that drawing takes at most FRAME_SHARE of the session's turn."""

from __future__ import annotations

# Frames a client may have in flight; no more are drawn until credits come back.
CREDITS = 2
# Share of a session's time that drawing frames may take when sessions compete: under load a
# session's frame rate drops before its training speed does.
FRAME_SHARE = 0.31


class FrameSchedule:
    def __init__(self, fps: int) -> None:
        self.fps = fps
        self.credits = 0
        self.count = 0
        self.last_at = 0.0
        self.interval = 1.0 / fps
        self.last_iteration = -1
        # Seconds of CPU one frame takes, smoothed.
        self.cost = 0.0

    def interval_for(self, sharing: int) -> float:
        """Seconds between frames while playing: the client's rate, or slower when `sharing`
        sessions take turns and frames would eat more than FRAME_SHARE of this one's."""
        return max(1.0 / self.fps, self.cost * max(1, sharing) / FRAME_SHARE)

    def due(self, now: float, sharing: int, dirty: bool, playing: bool, iteration: int) -> bool:
        if self.credits <= 0:
            return False
        if dirty:
            return True
        self.interval = self.interval_for(sharing)
        changed = iteration != self.last_iteration
        return playing and changed and now - self.last_at >= self.interval

    def next_in(self, now: float, dirty: bool, playing: bool, iteration: int) -> float | None:
        """Seconds until a frame may be due, or None when none will be without a command."""
        if self.credits <= 0:
            return None
        if dirty:
            return 0.0
        if playing and iteration != self.last_iteration:
            return max(0.0, self.last_at + 1.0 / self.fps - now)
        # Nothing new to draw until training moves on: the training wait covers that (a
        # session capped below its frame rate would otherwise spin).
        return None

    def drawn(self, now: float, dirty: bool, iteration: int, cost: float) -> None:
        """A frame was drawn at `now` taking `cost` seconds of CPU."""
        # A steady cadence: the next is due one interval after this one's slot, not after
        # the moment it was drawn (which is up to a training slice late).
        slot = self.last_at + self.interval
        steady = not dirty and now - slot < self.interval
        self.last_at = slot if steady else now
        self.credits -= 1
        self.last_iteration = iteration
        self.count += 1
        if self.count == 1:
            cost = 0.0  # the first picture warms up kernels and caches: not typical
        elif self.cost > 0:  # one slow frame (a busy core) moves the estimate little
            cost = 0.8 * self.cost + 0.2 * min(cost, 2 * self.cost)
        self.cost = cost
