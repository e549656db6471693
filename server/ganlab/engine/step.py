"""One training step, written once: D's and G's updates for a group of runs.

A group is runs whose networks have the same shapes and whose configs agree in everything
but the per-run fields (`group_key`); a single run is a group of one. Tensors carry a leading
run axis only for groups of two or more: one batched matrix product per layer steps them all,
which for networks this small costs little more than stepping one. Each run keeps its own
weights, optimizer, random streams and counters, draws its own batches, and steps exactly as
it would alone, up to the rounding of the batched products.

Two ways to a gradient, chosen per network by `closed_form_d` / `closed_form_g`:
- the general path, autograd of the loss's value (any objective, activation, penalty,
  spectral normalisation, unrolled D);
- the fast path, hand-written backpropagation from the objective's closed-form gradient, for
  objectives and activations that have one (tests check it against the general path).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlab.engine import spectral
from ganlab.engine.losses import gradient_penalty, r1_penalty, r2_penalty
from ganlab.engine.mlp import Layers, functional
from ganlab.engine.optimizers import step_all

if TYPE_CHECKING:
    from ganlab.engine.trainer import Trainer

Tensor = torch.Tensor
Trace = dict[str, dict[str, Any]]

# Fields each run of a group may set for itself: the step draws from each run's own streams,
# steps each run's own optimizer and schedule, and applies these per run. Everything else in
# the config must be equal for runs to step together.
PER_RUN_FIELDS: dict[str, Any] = {
    "seed": True,
    "data": True,
    "view": True,
    "metrics": True,
    "device": True,  # the resolved device is part of the key instead
    "g_optimizer": True,
    "d_optimizer": True,
    "noise": {"kind"},
    "generator": {"ema"},
    "loss": {"clip"},
    "training": {"lr_halflife", "instance_noise", "instance_noise_anneal"},
}


def group_key(t: Trainer) -> Hashable:
    """Runs with equal keys can step together: the config without its per-run fields."""
    key = t._group_key
    if key is None:
        shared = t.config.model_dump(exclude=PER_RUN_FIELDS)
        key = t._group_key = (str(t.device), t.closed_forms, json.dumps(shared, sort_keys=True))
    return key


def _stack(xs: Sequence[Tensor]) -> Tensor:
    return xs[0] if len(xs) == 1 else torch.stack(list(xs))


def _head(x: Tensor, k: int) -> Tensor:
    """The first k rows (packs) of (..., rows, cols)."""
    return x.narrow(-2, 0, k)


def _tail(x: Tensor, k: int) -> Tensor:
    """The rows after the first k."""
    return x.narrow(-2, k, x.shape[-2] - k)


def _plain(x: Tensor) -> Tensor:
    """A tensor autograd may save: stream chunks drawn under inference mode are not."""
    return x.clone() if x.is_inference() else x


class Group:
    """The runs of one step and what they share."""

    def __init__(self, runs: Sequence[Trainer]) -> None:
        self.runs = list(runs)
        self.size = len(self.runs)
        t0 = self.runs[0]
        c = t0.config
        self.obj = t0.objective
        self.loss = c.loss
        self.target = 1.0 - c.loss.label_smoothing
        self.saturating = c.loss.generator == "minimax"
        self.m = c.discriminator.packing
        self.packs, self.n = t0._batch()
        self.lead: tuple[int, ...] = () if self.size == 1 else (self.size,)
        self.spectral = c.discriminator.spectral_norm
        self.unrolled = c.training.unrolled_steps
        self.instance_noise = any(t.config.training.instance_noise > 0 for t in self.runs)
        self.G, self.D = t0.G, t0.D  # shapes and activations, the same for all runs
        fast = t0.closed_forms and self.obj.closed_form
        self.closed_form_d = (
            fast and self.D.act.closed_form and not self.spectral and not t0.has_penalties
        )
        # G's gradient at its samples through D (the picture's arrows too).
        self.closed_form_pull = fast and self.D.act.closed_form
        self.closed_form_g = self.closed_form_pull and self.G.act.closed_form and not self.unrolled

    def mode(self) -> contextlib.AbstractContextManager[Any]:
        """Inference mode is the cheapest; autograd needs tensors it may save."""
        fast = self.closed_form_d and self.closed_form_g
        return torch.inference_mode() if fast else torch.no_grad()

    def take(self, stream: str, n: int) -> Tensor:
        if self.size == 1:
            return getattr(self.runs[0], stream).take(n)
        return torch.stack([getattr(t, stream).take(n) for t in self.runs])

    def packed(self, x: Tensor) -> Tensor:
        """(..., n, 2) samples as (..., packs, 2m) packs."""
        return x.reshape(*self.lead, -1, 2 * self.m)

    # ------------------------------------------------------------------ networks
    def g_flat(self) -> Tensor:
        return self.runs[0].G.params if self.size == 1 else \
            torch.stack([t.G.params for t in self.runs])  # fmt: skip

    def d_raw(self) -> Tensor:
        return self.runs[0].D.params if self.size == 1 else \
            torch.stack([t.D.params for t in self.runs])  # fmt: skip

    def vectors(self) -> spectral.Vectors:
        return spectral.stacked([t.spectral_vectors() for t in self.runs]) if self.size > 1 \
            else self.runs[0].spectral_vectors()  # fmt: skip

    def d_effective(self, raw: Tensor) -> Tensor:
        """D's parameters as D uses them: spectrally normalised where that is on."""
        if not self.spectral:
            return raw
        return spectral.normalized(raw, self.D.shapes, self.vectors())

    def d_layers(self, flat: Tensor) -> Layers:
        """D's layers over `flat` for the fast path (a lone run's own, when they are its
        parameters: no new views at every step)."""
        d = self.runs[0].D
        return d.layers if flat is d.params else Layers(flat, d.shapes, d.act)

    def critic(self, flat: Tensor) -> Callable[[Tensor], Tensor]:
        return lambda x: functional(flat, self.D.shapes, self.D.act, x)

    def generate(self, flat: Tensor, z: Tensor) -> Tensor:
        return functional(flat, self.G.shapes, self.G.act, z)

    # ------------------------------------------------------------------ instance noise
    def with_instance_noise(self, *parts: Tensor) -> list[Tensor]:
        """Each (..., n, 2) part plus σ_t times its own standard normal draws, for the runs
        whose σ_t > 0 (the others draw nothing, so a run without it is as before)."""
        if not self.instance_noise:
            return list(parts)
        sigmas = [t.instance_noise_sigma() for t in self.runs]
        if not any(sigmas):
            return list(parts)
        n = sum(p.shape[-2] for p in parts)
        noise = [
            t.instance_noise_stream.take(n) * s if s else torch.zeros(n, 2, device=t.device)
            for t, s in zip(self.runs, sigmas, strict=True)
        ]
        eps = _stack(noise)
        out, at = [], 0
        for p in parts:
            k = p.shape[-2]
            out.append(p + eps[..., at : at + k, :])
            at += k
        return out

    # ------------------------------------------------------------------ D
    def d_loss(self, critic: Callable[[Tensor], Tensor], x: Tensor, o: Tensor,
               terms: dict[str, Tensor] | None = None) -> Tensor:  # fmt: skip
        """D's loss at packs x (reals then fakes) with outputs o: the sum over runs of each
        run's objective value plus its penalties. `terms`, when given, receives each penalty
        that is on, weighted as it was added (`d_gp` = λ·GP, `d_r1` = γ·R1, `d_r2` = γ·R2),
        per run (a scalar, or (runs,)), detached."""
        k, loss = self.packs, self.loss
        real, fake = self.obj.d_terms(_head(o, k), _tail(o, k), self.target)
        value = (real.mean((-2, -1)) + fake.mean((-2, -1))).sum()
        penalties: dict[str, Tensor] = {}
        if self.obj.gradient_penalty and loss.gp_weight > 0:
            mix = self.take("mix_stream", k)
            penalties["d_gp"] = loss.gp_weight * gradient_penalty(critic, _head(x, k), _tail(x, k),
                                                                  mix)  # fmt: skip
        if loss.r1 > 0:
            penalties["d_r1"] = loss.r1 * r1_penalty(critic, _head(x, k))
        if loss.r2 > 0:  # at this update's fakes, detached: G gets no gradient here
            penalties["d_r2"] = loss.r2 * r2_penalty(critic, _tail(x, k))
        for p in penalties.values():
            value = value + p.sum()
        if terms is not None:
            terms.update({name: p.detach() for name, p in penalties.items()})
        return value

    def d_gradients(self, trace: Trace | None = None) -> None:
        """D's gradient on a fresh batch, into each run's D.grad."""
        if self.spectral:
            for t in self.runs:
                t.spectral_step()
        k, n = self.packs, self.n
        real, z = self.take("data_stream", n), self.take("noise_stream", n)
        fake = self.runs[0].G.layers(z) if self.size == 1 else \
            Layers(self.g_flat(), self.G.shapes, self.G.act)(z)  # fmt: skip
        seen_real, seen_fake = self.with_instance_noise(real, fake)
        x = self.packed(torch.cat([seen_real, seen_fake], dim=-2))
        lone = self.runs[0].D if self.size == 1 else None
        terms: dict[str, Tensor] = {}  # the weighted penalties (none on the fast path)
        if self.closed_form_d:
            layers = self.d_layers(self.d_raw())
            outs = layers.forward(x)
            o = outs[-1]
            o_real, o_fake = _head(o, k), _tail(o, k)
            g_real, g_fake = self.obj.d_grad(o_real, o_fake, self.target)
            into = lone.grad_views if lone else None
            flat, _ = layers.backward(outs, torch.cat([g_real, g_fake], dim=-2), into)
        else:
            with torch.enable_grad():
                raw = self.d_raw().detach().requires_grad_(True)
                critic = self.critic(self.d_effective(raw))
                x = _plain(x)
                o = critic(x)
                (flat,) = torch.autograd.grad(self.d_loss(critic, x, o, terms), raw)
            o = o.detach()
            o_real, o_fake = _head(o, k), _tail(o, k)
        exact = self.obj.d_bias_grad(o_real, o_fake)
        if flat is None:  # written in place into the lone run's D.grad
            assert lone is not None
            flat = lone.grad
        else:
            _give([t.D.grad for t in self.runs], flat)
        if exact is not None:  # where it can be exactly 0, no rounding residue (losses.py)
            _exact_bias(self.runs, exact)
        if self.size == 1:
            self.runs[0]._last_d = (o_real, o_fake)
            self.runs[0]._last_penalties = terms
        else:
            for t, r, f in zip(self.runs, o_real.unbind(0), o_fake.unbind(0), strict=True):
                t._last_d = (r, f)
            each = {name: p.unbind(0) for name, p in terms.items()}
            for i, t in enumerate(self.runs):
                t._last_penalties = {name: p[i] for name, p in each.items()}
        if trace is not None:
            t = self.runs[0]
            norm, obj, m = t.normalizer, self.obj, self.m
            trace["generate"] = {"noise": _np(z), "fake": norm.to_data(fake),
                                 "real": norm.to_data(real)}  # fmt: skip
            trace["classify"] = {
                "d_real": _np(obj.prob(o_real).repeat_interleave(m)),
                "d_fake": _np(obj.prob(o_fake).repeat_interleave(m)),
            }
            # The objective's value, and with penalties each weighted one and the total D
            # minimised (their sum: the gradients phase is its gradient).
            d_loss = float(obj.d_value(o_real, o_fake, self.target))
            trace["loss"] = {"d_loss": d_loss}
            if terms:
                weighted = {name: float(p) for name, p in terms.items()}
                trace["loss"].update(weighted, d_total=d_loss + sum(weighted.values()))
            trace["gradients"] = _grad_trace(t.D.grad_views)

    def d_apply(self, count: bool = True) -> None:
        for t in self.runs:
            t.d_opt.lr_scale = t._lr_scale()
        if self.size == 1:
            self.runs[0].d_opt.step()
        else:
            step_all([t.d_opt for t in self.runs])
        for t in self.runs:
            t._d_applied(count)

    # ------------------------------------------------------------------ G
    def g_gradients(self, trace: Trace | None = None) -> None:
        """G's gradient on fresh noise, into each run's G.grad."""
        n = self.n
        z = self.take("noise_stream", n)
        lone = self.runs[0].G if self.size == 1 else None
        if self.closed_form_g:
            layers = lone.layers if lone else Layers(self.g_flat(), self.G.shapes, self.G.act)
            g_outs = layers.forward(z)
            fake = g_outs[-1]
            (seen,) = self.with_instance_noise(fake)
            o, g_x = pull(self.d_effective(self.d_raw()), self, self.packed(seen), None)
            fake_grad = g_x.reshape(*self.lead, n, 2)
            flat, _ = layers.backward(g_outs, fake_grad, lone.grad_views if lone else None)
            if flat is not None:  # else written in place into the lone run's G.grad
                _give([t.G.grad for t in self.runs], flat)
        else:
            with torch.enable_grad():
                g_flat = self.g_flat().detach().requires_grad_(True)
                fake = self.generate(g_flat, _plain(z))
                (seen,) = self.with_instance_noise(fake)
                d_flat = self.unrolled_d(g_flat) if self.unrolled else \
                    self.d_effective(self.d_raw())  # fmt: skip
                o = self.critic(d_flat)(self.packed(seen))
                loss = self.obj.g_terms(o, self.saturating).mean((-2, -1)).sum()
                flat, fake_grad = torch.autograd.grad(loss, (g_flat, fake))
            o, fake = o.detach(), fake.detach()
            _give([t.G.grad for t in self.runs], flat)
        if self.size == 1:
            self.runs[0]._last_g = o
        else:
            for t, last in zip(self.runs, o.unbind(0), strict=True):
                t._last_g = last
        if trace is not None:
            t = self.runs[0]
            norm, obj, m = t.normalizer, self.obj, self.m
            trace["generate"] = {"noise": _np(z), "fake": norm.to_data(fake)}
            trace["classify"] = {"d_fake": _np(obj.prob(o).repeat_interleave(m))}
            trace["loss"] = {"g_loss": float(obj.g_value(o, self.saturating))}
            # Per-sample arrows: gradient of each pack's own loss (the mean's times `packs`).
            arrows = _np(fake_grad.reshape(n, 2) * (self.packs / norm.scale))
            trace["gradients"] = {**_grad_trace(t.G.grad_views), "fake_grad": arrows}

    def unrolled_d(self, g_flat: Tensor) -> Tensor:
        """Each run's D after `unrolled_steps` simulated updates against the generator
        `g_flat` (kept in the graph, so G's gradient flows through them); D itself and its
        optimizer are untouched (Metz et al. 2017)."""
        out = []
        for i, t in enumerate(self.runs):
            one = lone(t)
            g_i = g_flat if self.size == 1 else g_flat[i]
            d = t.D.params.detach().requires_grad_(True)
            state = t.d_opt.sim_state()
            t.d_opt.lr_scale = t._lr_scale()
            for _ in range(self.unrolled):
                real = _plain(t.data_stream.take(one.n))
                fake = one.generate(g_i, _plain(t.noise_stream.take(one.n)))
                real, fake = one.with_instance_noise(real, fake)
                x = torch.cat([one.packed(real), one.packed(fake)], dim=-2)
                critic = one.critic(one.d_effective(d))
                loss = one.d_loss(critic, x, critic(x))
                (grad,) = torch.autograd.grad(loss, d, create_graph=True)
                d, state = t.d_opt.simulate(d, grad, state)
                if self.obj.clip_weights:
                    d = d.clamp(-t.config.loss.clip, t.config.loss.clip)
            out.append(one.d_effective(d))
        return _stack(out)

    def g_apply(self, count: bool = True) -> None:
        for t in self.runs:
            t.g_opt.lr_scale = t._lr_scale()
        if self.size == 1:
            self.runs[0].g_opt.step()
        else:
            step_all([t.g_opt for t in self.runs])
        if count:
            for t in self.runs:
                t._g_applied()


def pull(d_flat: Tensor, group: Group, x: Tensor, per_pack: int | None) -> tuple[Tensor, Tensor]:
    """D's output at packs x (..., rows, 2m) and the gradient of the generator's loss with
    respect to the first packs: of their mean loss (a G update: all rows), or, with
    `per_pack` = k, of each of the first k packs' own loss (the picture's arrows; the other
    rows are only judged)."""
    obj, sat = group.obj, group.saturating
    k = x.shape[-2] if per_pack is None else per_pack
    scale = float(per_pack) if per_pack is not None else 1.0
    if group.closed_form_pull:
        layers = group.d_layers(d_flat)
        outs = layers.forward(x)
        if per_pack is not None:
            head = [_head(h, k) for h in outs]
            g_o = obj.g_grad(head[-1], sat).mul_(scale)
        else:
            head, g_o = outs, obj.g_grad(outs[-1], sat)
        _, g_x = layers.backward(head, g_o, param_grads=False, input_grad=True)
        assert g_x is not None
        return outs[-1], g_x
    # Pictures run under inference mode, where autograd cannot work: leave it for this.
    with torch.inference_mode(False), torch.enable_grad():
        at = _plain(_head(x, k)).detach().requires_grad_(True)
        o_head = group.critic(_plain(d_flat).detach())(at)
        loss = obj.g_terms(o_head, sat).mean((-2, -1)).sum() * scale
        (g_x,) = torch.autograd.grad(loss, at)
    o_rest = group.critic(d_flat)(_tail(x, k))
    return torch.cat([o_head.detach(), o_rest], dim=-2), g_x


# ---------------------------------------------------------------------- iterations
def lone(t: Trainer) -> Group:
    """The group of one run, kept until its config or networks change."""
    if t._lone_group is None:
        t._lone_group = Group([t])
    return t._lone_group


def iterate(runs: Sequence[Trainer]) -> None:
    """One iteration of every run (they must share one `group_key`): by the config's
    scheme, alternating (d_steps D updates, then g_steps G updates), simultaneous (one update
    of each from the same point) or extragradient (both look one update ahead, then step from
    where they were with the gradients found there)."""
    group = lone(runs[0]) if len(runs) == 1 else Group(runs)
    t = runs[0].config.training
    with group.mode():
        if t.scheme == "alternating":
            for _ in range(t.d_steps):
                group.d_gradients()
                group.d_apply()
            for _ in range(t.g_steps):
                group.g_gradients()
                group.g_apply()
        else:
            if t.scheme == "extragradient":
                kept = [(r.D.params.clone(), r.G.params.clone()) for r in runs]
                group.d_gradients()
                group.g_gradients()
                group.d_apply(count=False)
                group.g_apply(count=False)
            group.d_gradients()
            group.g_gradients()
            if t.scheme == "extragradient":
                for r, (d, g) in zip(runs, kept, strict=True):
                    r.D.params.copy_(d)
                    r.G.params.copy_(g)
            group.d_apply()
            group.g_apply()
    for r in runs:
        r.iteration += 1


def step_together(runs: Sequence[Trainer]) -> None:
    """One iteration of several runs sharing one `group_key` (the live server's case)."""
    iterate(runs)


def diverged_runs(runs: Sequence[Trainer]) -> list[bool]:
    """`Trainer.diverged` of each run, in one check for all of them."""
    with torch.inference_mode():
        g = torch.isfinite(torch.stack([t.G.params for t in runs])).all(1)
        d = torch.isfinite(torch.stack([t.D.params for t in runs])).all(1)
        return [not ok for ok in (g & d).tolist()]


def _exact_bias(runs: list[Trainer], exact: Tensor) -> None:
    """Write each run's exact output-bias gradient (its network's last parameter)."""
    if len(runs) == 1:
        runs[0].D.grad[-1:] = exact
        return
    for t, e in zip(runs, exact.unbind(0), strict=True):
        t.D.grad[-1:] = e


def _give(grads: list[Tensor], flat: Tensor) -> None:
    if len(grads) == 1:
        if flat.data_ptr() != grads[0].data_ptr():
            grads[0].copy_(flat)
        return
    torch._foreach_copy_(grads, list(flat.unbind(0)))


def _np(x: Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float32, copy=False)


def _grad_trace(grad_views: tuple[list[Tensor], list[Tensor]]) -> dict[str, Any]:
    norms = [float(torch.sqrt(w.pow(2).sum() + b.pow(2).sum())) for w, b in zip(*grad_views,
             strict=True)]  # fmt: skip
    return {"layer_grad_norms": norms, "grad_norm": float(np.sqrt(np.sum(np.square(norms))))}
