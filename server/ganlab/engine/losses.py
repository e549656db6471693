"""GAN objectives, each as closed-form values and gradients with respect to D's outputs.

The trainer's hand-written backward pass starts from d(loss)/d(output) given here; tests
check every closed form against autograd of the value. `o` is D's raw output: a logit for
the log loss, a score for the others, shaped (packs, 1), or (runs, packs, 1) for several
runs stepped together (step.py). Losses are means over the packs in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganlab.engine.config import LossConfig

Tensor = torch.Tensor
# A real and a fake part (of a loss, or of its gradient).
Pair = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class Objective:
    name: str
    title: str
    # What D's output means for a picture: a probability of "real", or an unbounded score.
    output: str = "probability"
    clip_weights: bool = False
    gradient_penalty: bool = False

    @property
    def closed_form(self) -> bool:
        """Whether both gradients have closed forms here (else the trainer uses autograd of
        the values: a new objective needs only `d_terms` and `g_terms`)."""
        cls = type(self)
        return cls.d_grad is not Objective.d_grad and cls.g_grad is not Objective.g_grad

    def prob(self, o: torch.Tensor) -> torch.Tensor:
        """D's opinion as drawn: sigmoid of a logit, or the raw score."""
        return torch.sigmoid(o) if self.output == "probability" else o

    # --- discriminator -------------------------------------------------------------------
    def d_terms(self, o_real: torch.Tensor, o_fake: torch.Tensor,
                target: float) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Each real and each fake sample's part of D's loss (its value is their means' sum)."""
        raise NotImplementedError

    def d_value(self, o_real: torch.Tensor, o_fake: torch.Tensor, target: float) -> torch.Tensor:
        real, fake = self.d_terms(o_real, o_fake, target)
        return real.mean() + fake.mean()

    def d_grad(self, o_real: torch.Tensor, o_fake: torch.Tensor, target: float) -> Pair:
        """Optional closed form: d(D's loss)/d(o_real), d(D's loss)/d(o_fake)."""
        raise NotImplementedError

    def d_bias_grad(self, o_real: Tensor, o_fake: Tensor) -> Tensor | None:
        """d(D's loss)/d(D's output bias), shaped (1,) or (runs, 1), for objectives where it
        is often exactly 0. The trainer writes it over the backward pass's float32 sum of
        `d_grad` over the packs, which leaves ~3e-8 of one sign there at every step (Adam and
        RMSProp scale that to an lr-sized step). Penalties on grad_x D (WGAN-GP, R1, R2) add
        nothing to this gradient. None: the sum serves (it is never exactly 0 in practice)."""
        return None

    # --- generator -----------------------------------------------------------------------
    def g_terms(self, o_fake: torch.Tensor, saturating: bool) -> torch.Tensor:
        """Each fake sample's part of G's loss (its value is their mean)."""
        raise NotImplementedError

    def g_value(self, o_fake: torch.Tensor, saturating: bool) -> torch.Tensor:
        return self.g_terms(o_fake, saturating).mean()

    def g_grad(self, o_fake: torch.Tensor, saturating: bool) -> torch.Tensor:
        """Optional closed form: d(mean G loss)/d(o_fake)."""
        raise NotImplementedError


class LogLoss(Objective):
    def d_terms(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        # Cross-entropy with the target t on a logit o: softplus(o) - t*o.
        return F.softplus(o_real) - target * o_real, F.softplus(o_fake)

    def d_grad(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return (
            torch.sigmoid(o_real).sub_(target).div_(o_real.shape[-2]),
            torch.sigmoid(o_fake).div_(o_fake.shape[-2]),
        )

    def g_terms(self, o_fake: Tensor, saturating: bool) -> Tensor:
        # Minimax: G minimises log(1 - D) = -softplus(o); non-saturating: -log D = softplus(-o).
        return -F.softplus(o_fake) if saturating else F.softplus(-o_fake)

    def g_grad(self, o_fake: Tensor, saturating: bool) -> Tensor:
        s = torch.sigmoid(o_fake)
        return s.neg_().div_(o_fake.shape[-2]) if saturating else s.sub_(1).div_(o_fake.shape[-2])


class LeastSquares(Objective):
    def d_terms(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return 0.5 * (o_real - target).pow(2), 0.5 * o_fake.pow(2)

    def d_grad(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return (o_real - target).div_(o_real.shape[-2]), o_fake / o_fake.shape[-2]

    def g_terms(self, o_fake: Tensor, saturating: bool) -> Tensor:
        return 0.5 * (o_fake - 1).pow(2)

    def g_grad(self, o_fake: Tensor, saturating: bool) -> Tensor:
        return (o_fake - 1).div_(o_fake.shape[-2])


class Wasserstein(Objective):
    def d_terms(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return -o_real, o_fake

    def d_grad(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return (
            torch.full_like(o_real, -1.0 / o_real.shape[-2]),
            torch.full_like(o_fake, 1.0 / o_fake.shape[-2]),
        )

    def d_bias_grad(self, o_real: Tensor, o_fake: Tensor) -> Tensor:
        # mean D(fake) - mean D(real) does not change when a constant is added to D's output.
        return o_real.new_zeros((*o_real.shape[:-2], 1))

    def g_terms(self, o_fake: Tensor, saturating: bool) -> Tensor:
        return -o_fake

    def g_grad(self, o_fake: Tensor, saturating: bool) -> Tensor:
        return torch.full_like(o_fake, -1.0 / o_fake.shape[-2])


class Hinge(Wasserstein):
    def d_terms(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return F.relu(1 - o_real), F.relu(1 + o_fake)

    def d_grad(self, o_real: Tensor, o_fake: Tensor, target: float) -> Pair:
        return (
            (o_real < 1).to(o_real.dtype).div_(-o_real.shape[-2]),
            (o_fake > -1).to(o_fake.dtype).div_(o_fake.shape[-2]),
        )

    def d_bias_grad(self, o_real: Tensor, o_fake: Tensor) -> Tensor:
        # fakes inside the margin / fake packs - reals inside / real packs, in exact integers
        # and one rounding: 0 whenever the shares tie, as in the first steps, when every pack
        # is inside.
        nr, nf = o_real.shape[-2], o_fake.shape[-2]
        balance = (o_fake > -1).sum(-2) * nr - (o_real < 1).sum(-2) * nf
        return balance.to(o_fake.dtype).div_(nr * nf)


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        LogLoss("log", "Log loss (cross-entropy)"),
        LeastSquares("lsgan", "Least squares (LSGAN)", output="score"),
        Wasserstein("wgan", "Wasserstein, weight clipping", output="score", clip_weights=True),
        Wasserstein(
            "wgan_gp", "Wasserstein, gradient penalty", output="score", gradient_penalty=True
        ),
        Hinge("hinge", "Hinge", output="score"),
    )
}


def batch_losses(obj: Objective, loss: LossConfig, last_d: tuple[torch.Tensor, torch.Tensor] | None,
                 last_g: torch.Tensor | None,
                 penalties: Mapping[str, Tensor] | None = None) -> dict[str, float]:  # fmt: skip
    """D and G losses and mean D outputs of one batch, from D's outputs on it: `last_d` its
    (real, fake) outputs in D's update, `last_g` the fakes' outputs in G's update.

    `d_loss` is the objective's value alone. `penalties` are the weighted penalties that same
    D update added to it, by name (`d_gp` = λ·GP, `d_r1` = γ·R1, `d_r2` = γ·R2, only those
    that were on): each becomes a column, and `d_total`, what D minimised, their sum with
    `d_loss`. No penalties, no such columns."""
    names: list[str] = []
    columns: list[torch.Tensor] = []
    with torch.inference_mode():
        if last_d is not None:
            o_real, o_fake = last_d
            names += ["d_real_part", "d_fake_part", "d_real", "d_fake"]
            columns += [*obj.d_terms(o_real, o_fake, 1.0 - loss.label_smoothing),
                        obj.prob(o_real), obj.prob(o_fake)]  # fmt: skip
        if last_g is not None:
            names.append("g_loss")
            columns.append(obj.g_terms(last_g, loss.generator == "minimax"))
        if not columns:
            return {}
        # Every column holds one value per pack of the batch: one mean and one conversion for
        # all (this runs at every frame, and each small reduction costs as much as the rest).
        if len({c.shape for c in columns}) == 1:
            means = torch.cat(columns, dim=-1).mean(dim=0).tolist()
        else:
            means = [float(c.mean()) for c in columns]
    out = dict(zip(names, means, strict=True))
    if last_d is not None:
        out["d_loss"] = out.pop("d_real_part") + out.pop("d_fake_part")
        if penalties:
            with torch.inference_mode():
                terms = dict(zip(penalties, torch.stack(list(penalties.values())).tolist(),
                                 strict=True))  # fmt: skip
            out.update(terms)
            out["d_total"] = out["d_loss"] + sum(terms.values())
    return out


# The penalties take packs shaped (packs, 2m), or (runs, packs, 2m) for runs stepped together,
# and return each run's mean: a scalar, or (runs,). The step sums them over runs (runs are
# independent: each run's gradient of the sum is its own) and records each run's own value.
def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP: mean (|grad_x D(x)| - 1)^2 at random interpolates of real and fake packs."""
    x = (real + mix * (fake - real)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (grad.norm(dim=-1) - 1).pow(2).mean(-1)


def _half_squared_slope(critic: Callable[[Tensor], Tensor], at: torch.Tensor) -> torch.Tensor:
    """0.5 * mean |grad_x D(x)|^2 at the given packs (zero-centred, unlike WGAN-GP)."""
    x = at.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return 0.5 * grad.pow(2).sum(dim=-1).mean(-1)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1: 0.5 * mean |grad_x D(x)|^2 at real packs (the weight γ multiplies this)."""
    return _half_squared_slope(critic, real)


def r2_penalty(critic: Callable[[Tensor], Tensor], fake: torch.Tensor) -> torch.Tensor:
    """R2: 0.5 * mean |grad_x D(x)|^2 at (detached) fake packs (the weight γ multiplies this)."""
    return _half_squared_slope(critic, fake)
