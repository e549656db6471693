"""The experiment configuration: one pydantic model with ranges, defaults and a JSON schema.

Every field may change between two training steps; `Trainer.configure` decides what each
change rebuilds. Validation errors name the field and the allowed range (`ConfigError`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator
from pydantic_core import ErrorDetails

from ganlab.engine.bounded_json import cut

Activation = Literal["relu", "leaky_relu", "tanh", "elu", "gelu", "silu"]
LossKind = Literal["log", "lsgan", "wgan", "wgan_gp", "hinge"]
# Maximum number of custom points an experiment may carry (drawn or imported).
MAX_POINTS = 20_000
MAX_STROKE_POINTS = 20_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class NoiseConfig(_Strict):
    kind: Literal["uniform", "gaussian"] = Field("gaussian", description="Noise distribution.")
    dim: int = Field(2, ge=1, le=8, description="Noise dimension; 1 makes the manifold a curve.")


class NetworkConfig(_Strict):
    layers: int = Field(2, ge=0, le=8, description="Number of hidden layers (0 = linear map).")
    neurons: int = Field(16, ge=1, le=512, description="Neurons in each hidden layer.")
    activation: Activation = Field("relu", description="Activation of the hidden layers.")


class GeneratorConfig(NetworkConfig):
    ema: float = Field(
        0.0,
        ge=0.0,
        le=0.9999,
        description="Decay of an exponential moving average of G's weights (0 = off, e.g. 0.999).",
    )


class DiscriminatorConfig(NetworkConfig):
    packing: int = Field(
        1, ge=1, le=4, description="PacGAN packing: D judges this many samples at once."
    )
    spectral_norm: StrictBool = Field(
        False, description="Divide each of D's weight matrices by its largest singular value."
    )


def _lr(default: float) -> Any:
    return Field(default, gt=0.0, le=10.0, description="Learning rate.")


def _beta1(default: float) -> Any:
    return Field(default, ge=0.0, lt=1.0, description="Adam's first-moment decay.")


def _beta2(default: float) -> Any:
    return Field(default, ge=0.0, lt=1.0, description="Adam's second-moment decay.")


class OptimizerConfig(_Strict):
    kind: Literal["sgd", "adam", "rmsprop"] = Field("adam", description="Optimizer.")
    lr: float = _lr(1e-3)
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="Momentum (SGD and RMSProp).")
    beta1: float = _beta1(0.5)
    beta2: float = _beta2(0.999)
    alpha: float = Field(0.99, ge=0.0, lt=1.0, description="RMSProp's square-average decay.")


# The default experiment's optimizers, one class each so that a section given in part (a
# preset, `--set g_optimizer.kind=sgd`) keeps its own network's defaults. D's rate is 12.5
# times G's (and it takes two steps per iteration), so in the first second of play D's
# heatmap splits real from fake before G catches up; Adam without momentum, which makes GANs
# circle their equilibrium. tests/test_trainer.py measures both; docs/engine.md has figures.
class GeneratorOptimizerConfig(OptimizerConfig):
    lr: float = _lr(4e-4)
    beta1: float = _beta1(0.0)
    beta2: float = _beta2(0.99)


class DiscriminatorOptimizerConfig(OptimizerConfig):
    lr: float = _lr(5e-3)
    beta1: float = _beta1(0.0)
    beta2: float = _beta2(0.99)


class LossConfig(_Strict):
    kind: LossKind = Field("log", description="Objective.")
    generator: Literal["non_saturating", "minimax"] = Field(
        "non_saturating",
        description="Generator loss for log loss: -log D(G(z)) or the original log(1-D(G(z))).",
    )
    clip: float = Field(0.01, gt=0.0, le=10.0, description="WGAN weight clipping bound.")
    gp_weight: float = Field(10.0, ge=0.0, le=1000.0, description="WGAN-GP penalty weight λ.")
    r1: float = Field(0.0, ge=0.0, le=1000.0, description="R1 penalty weight γ (0 = off).")
    r2: float = Field(
        0.0,
        ge=0.0,
        le=1000.0,
        description="Gradient penalty on fake samples (R2): γ/2 · E|∇D(fake)|²; 0 = off.",
    )
    label_smoothing: float = Field(
        0.0, ge=0.0, le=0.5, description="One-sided label smoothing: real target 1 - value."
    )

    @model_validator(mode="after")
    def _smoothing_needs_targets(self) -> LossConfig:
        if self.label_smoothing > 0 and self.kind not in ("log", "lsgan"):
            raise ValueError("label_smoothing applies only to the log and lsgan losses")
        return self


class TrainingConfig(_Strict):
    batch_size: int = Field(150, ge=1, le=4096, description="Samples per batch.")
    # Two D updates per iteration, as GAN Lab's default: D stays ahead of G.
    d_steps: int = Field(2, ge=0, le=10, description="Discriminator updates per iteration.")
    g_steps: int = Field(1, ge=0, le=10, description="Generator updates per iteration.")
    lr_halflife: int = Field(
        0,
        ge=0,
        le=10_000_000,
        description="Iterations over which both learning rates halve (0 = constant).",
    )
    scheme: Literal["alternating", "simultaneous", "extragradient"] = Field(
        "alternating",
        description="alternating: D's updates, then G's; simultaneous: one update of each from "
        "the same point; extragradient: both look ahead one update, then step from the start.",
    )
    unrolled_steps: int = Field(
        0, ge=0, le=10, description="G's gradient through this many simulated D updates."
    )
    instance_noise: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="σ of Gaussian noise added to every point D sees, in normalised "
        "coordinates, annealed linearly to 0 (0 = off).",
    )
    instance_noise_anneal: int = Field(
        2000, ge=1, le=10_000_000, description="Iterations over which instance noise falls to 0."
    )


class DataConfig(_Strict):
    """Which distribution to learn: a registered name, or custom points."""

    name: str = Field("gaussians", min_length=1, max_length=64, description="Distribution.")
    strokes: list[list[tuple[float, float]]] | None = Field(
        None, description="For name='drawing': polylines in the unit square."
    )
    brush_width: float = Field(
        0.04, gt=0.0, le=1.0, description="For name='drawing': width of the drawn band."
    )
    points: list[tuple[float, float]] | None = Field(
        None, max_length=MAX_POINTS, description="For name='points': an imported point set."
    )
    jitter: float = Field(
        0.0, ge=0.0, le=10.0, description="For name='points': Gaussian jitter σ added to points."
    )

    @model_validator(mode="after")
    def _check_custom(self) -> DataConfig:
        from ganlab.engine.distributions import DISTRIBUTIONS, validate_custom

        # Strokes and points are checked (their sizes bounded) whatever the name says.
        if self.name == "drawing" or self.strokes is not None:
            validate_custom(strokes=self.strokes, points=None, name="drawing")
        if self.name == "points" or self.points is not None:
            validate_custom(strokes=None, points=self.points, name="points")
        if self.name not in (*DISTRIBUTIONS, "drawing", "points"):
            allowed = ", ".join([*DISTRIBUTIONS, "drawing", "points"])
            raise ValueError(f"unknown distribution {shown(self.name)}; allowed: {allowed}")
        return self


class ViewConfig(_Strict):
    """How the picture of the training is sampled."""

    grid: int = Field(64, ge=8, le=256, description="Discriminator heatmap resolution.")
    manifold: int = Field(21, ge=3, le=64, description="Latent grid lines per axis.")
    fakes: int = Field(240, ge=12, le=2400, description="Fake samples shown (fixed noise).")
    reals: int = Field(480, ge=12, le=4800, description="Real samples shown (fixed subset).")
    average: StrictBool = Field(
        False,
        description="Show and measure the averaged generator (generator.ema) instead of G.",
    )
    optimal: StrictBool = Field(
        False,
        description="Add the optimal discriminator D* = p_data / (p_data + p_g) to the picture.",
    )
    field: int = Field(
        20,
        ge=0,
        le=64,
        description="Arrows per axis of the gradient field: the generator loss's gradient for "
        "a fake placed anywhere in the box (0 = off).",
    )


class MetricsConfig(_Strict):
    every: int = Field(100, ge=1, le=100_000, description="Iterations between metric rows.")
    samples: int = Field(2000, ge=100, le=10_000, description="Samples for KL/JS and modes.")
    w1_samples: int = Field(
        500, ge=50, le=5000, description="Samples for the exact Wasserstein-1 (cost grows ~n³)."
    )
    grid: int = Field(30, ge=4, le=200, description="Bins per axis for KL and JS by grid.")


class ExperimentConfig(_Strict):
    data: DataConfig = Field(default_factory=DataConfig)
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    g_optimizer: GeneratorOptimizerConfig = Field(default_factory=GeneratorOptimizerConfig)
    d_optimizer: DiscriminatorOptimizerConfig = Field(default_factory=DiscriminatorOptimizerConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    view: ViewConfig = Field(default_factory=ViewConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Random seed.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train.")


class ConfigError(ValueError):
    """A config value out of range; `field` is the dotted path, `message` says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def shown(value: Any) -> str:
    """A value quoted in an error message, cut short (a client may send 1 MB)."""
    try:
        text = repr(value)
    except ValueError:  # str() of an int over Python's 4,300-digit limit
        text = "an integer too long to show"
    return cut(text)


def _describe(error: ErrorDetails) -> str:
    """A message that states the allowed range or values, not pydantic's internals."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    bounds = {
        "greater_than_equal": ">= {ge}",
        "greater_than": "> {gt}",
        "less_than_equal": "<= {le}",
        "less_than": "< {lt}",
    }
    got = shown(error.get("input"))
    if kind in bounds:
        return f"must be {bounds[kind].format(**ctx)}, got {got}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {got}"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg'].lower()}, got {got}"


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
    # An unknown field's name is the sender's text: cut like any other quoted value.
    return cut(path)


def config_error(exc: ValidationError) -> ConfigError:
    """The first validation error, rewritten as a ConfigError naming its field."""
    first = exc.errors()[0]
    return ConfigError(_field_path(first["loc"]), _describe(first))


def parse_config(data: dict[str, Any]) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc) from None


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a partial config into a full one (dicts merge, anything else replaces)."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def updated(config: ExperimentConfig, patch: dict[str, Any]) -> ExperimentConfig:
    """A new config with `patch` applied; raises ConfigError and leaves `config` untouched.

    A patch naming another distribution replaces the data section (what it leaves out takes
    its default): the old drawing's strokes or imported points are not carried along. A data
    patch without a new name merges, e.g. a new brush width for the same drawing.
    """
    if not isinstance(patch, dict):
        raise ConfigError("set", "must be an object of config fields")
    base = config.model_dump()
    data = patch.get("data")
    if isinstance(data, dict) and "name" in data and data["name"] != config.data.name:
        del base["data"]
    return parse_config(merge(base, patch))


def set_dotted(patch: dict[str, Any], key: str, value: Any) -> None:
    """Write `value` at a dotted path (`generator.layers`) into a nested dict."""
    parts = key.split(".")
    node = patch
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(key, "is not a nested field")
    node[parts[-1]] = value


def json_schema() -> dict[str, Any]:
    return ExperimentConfig.model_json_schema()
