"""Random batches drawn in large chunks, so that a training step costs a slice, not a sampler.

Samples are still independent and identically distributed; drawing many at once only moves
the sampler's per-call overhead out of the training step. A stream's position can be saved
and restored exactly: it records the generator state from which its current chunk was drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

CHUNK = 16_384


class Stream:
    def __init__(
        self,
        draw: Callable[[int, torch.Generator], torch.Tensor],
        generator: torch.Generator,
        device: torch.device,
        chunk: int = CHUNK,
    ) -> None:
        self.draw = draw
        self.generator = generator
        self.device = device
        self.chunk = chunk
        self.buffer = torch.empty(0, device=device)
        self.offset = 0
        self._chunk_state = generator.get_state()

    def _refill(self, n: int) -> None:
        self._chunk_state = self.generator.get_state()
        self.buffer = self.draw(max(self.chunk, n), self.generator).to(self.device)
        self.offset = 0

    def take(self, n: int) -> torch.Tensor:
        if self.offset + n > self.buffer.shape[0]:
            self._refill(n)
        out = self.buffer[self.offset : self.offset + n]
        self.offset += n
        return out

    def restart(self, draw: Callable[[int, torch.Generator], torch.Tensor] | None = None) -> None:
        """Drop the current chunk (the sampler changed); the next take draws afresh."""
        if draw is not None:
            self.draw = draw
        # The next chunk will be drawn from the generator's current state: record it, so that
        # a run saved now reloads to the same next chunk.
        self._chunk_state = self.generator.get_state()
        self.buffer = torch.empty(0, device=self.device)
        self.offset = 0

    def state(self) -> dict[str, torch.Tensor]:
        return {
            "generator": self._chunk_state.clone(),
            "position": torch.tensor([self.offset, self.buffer.shape[0]], dtype=torch.int64),
        }

    def load(self, state: dict[str, torch.Tensor]) -> None:
        offset, length = (int(v) for v in state["position"])
        self.generator.set_state(state["generator"])
        if length:
            self._chunk_state = self.generator.get_state()
            self.buffer = self.draw(length, self.generator).to(self.device)
        else:
            self.buffer = torch.empty(0, device=self.device)
        self.offset = offset


def noise_sampler(kind: str, dim: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Uniform on [-1, 1]^dim or standard Gaussian."""
    if kind == "uniform":
        return lambda n, g: torch.rand(n, dim, generator=g).mul_(2).sub_(1)
    return lambda n, g: torch.randn(n, dim, generator=g)
