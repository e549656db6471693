import pytest

from ganlab.engine.config import (
    ConfigError,
    ExperimentConfig,
    json_schema,
    merge,
    parse_config,
    set_dotted,
    updated,
)


def test_defaults_are_valid_and_round_trip():
    cfg = ExperimentConfig()
    assert parse_config(cfg.model_dump()) == cfg
    assert cfg.noise.dim == 2 and cfg.discriminator.packing == 1


@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        ({"generator": {"layers": 9}}, "generator.layers", "<= 8"),
        ({"generator": {"neurons": 0}}, "generator.neurons", ">= 1"),
        ({"discriminator": {"neurons": 513}}, "discriminator.neurons", "<= 512"),
        ({"noise": {"dim": 9}}, "noise.dim", "<= 8"),
        ({"noise": {"kind": "cauchy"}}, "noise.kind", "'uniform'"),
        ({"training": {"d_steps": 11}}, "training.d_steps", "<= 10"),
        ({"training": {"batch_size": 0}}, "training.batch_size", ">= 1"),
        ({"d_optimizer": {"lr": 0}}, "d_optimizer.lr", "> 0"),
        ({"g_optimizer": {"kind": "adagrad"}}, "g_optimizer.kind", "'adam'"),
        ({"discriminator": {"packing": 5}}, "discriminator.packing", "<= 4"),
        ({"generator": {"activation": "swish"}}, "generator.activation", "'gelu'"),
        ({"generator": {"ema": 1.0}}, "generator.ema", "<= 0.9999"),
        ({"discriminator": {"spectral_norm": "yes"}}, "discriminator.spectral_norm", "bool"),
        ({"training": {"unrolled_steps": 11}}, "training.unrolled_steps", "<= 10"),
        ({"training": {"instance_noise": -0.1}}, "training.instance_noise", ">= 0"),
        ({"training": {"instance_noise_anneal": 0}}, "training.instance_noise_anneal", ">= 1"),
        ({"training": {"scheme": "gauss_seidel"}}, "training.scheme", "'extragradient'"),
        ({"loss": {"kind": "log", "label_smoothing": 0.6}}, "loss.label_smoothing", "<= 0.5"),
        ({"loss": {"kind": "hinge", "label_smoothing": 0.1}}, "loss", "label_smoothing"),
        ({"data": {"name": "nope"}}, "data", "unknown distribution"),
        ({"data": {"name": "drawing"}}, "data", ""),
        ({"generator": {"bogus": 1}}, "generator.bogus", "not a known field"),
        ({"loss": {"r2": -0.5}}, "loss.r2", ">= 0"),
        ({"loss": {"r2": 1001}}, "loss.r2", "<= 1000"),
        ({"seed": -1}, "seed", ">= 0"),
        ({"device": "tpu"}, "device", "'cpu'"),
        ({"generator": {"layers": "many"}}, "generator.layers", "integer"),
    ],
)
def test_errors_name_field_and_range(patch, field, words):
    with pytest.raises(ConfigError) as info:
        updated(ExperimentConfig(), patch)
    assert info.value.field == field
    assert words in info.value.message
    assert str(info.value).startswith(field)


def test_updated_leaves_original_untouched():
    cfg = ExperimentConfig()
    new = updated(cfg, {"generator": {"layers": 4}, "d_optimizer": {"lr": 0.1}})
    assert new.generator.layers == 4 and new.d_optimizer.lr == 0.1
    assert cfg.generator.layers == 2 and cfg.generator.neurons == new.generator.neurons


def test_patch_must_be_object():
    with pytest.raises(ConfigError):
        updated(ExperimentConfig(), [1, 2])  # type: ignore[arg-type]


def test_merge_and_set_dotted():
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}
    patch: dict = {}
    set_dotted(patch, "generator.layers", 3)
    set_dotted(patch, "seed", 4)
    assert patch == {"generator": {"layers": 3}, "seed": 4}


def test_schema_has_ranges():
    schema = json_schema()
    layers = schema["$defs"]["GeneratorConfig"]["properties"]["layers"]
    assert layers["minimum"] == 0 and layers["maximum"] == 8


def test_custom_points_validated():
    ok = parse_config({"data": {"name": "points", "points": [[0, 0], [1, 1]]}})
    assert ok.data.points == [(0.0, 0.0), (1.0, 1.0)]
    with pytest.raises(ConfigError):
        parse_config({"data": {"name": "points", "points": []}})
    with pytest.raises(ConfigError):
        parse_config({"data": {"name": "drawing", "strokes": [[[0, float("nan")]]]}})


DRAWN = {"name": "drawing", "strokes": [[[0.1, 0.1], [0.9, 0.9]]], "brush_width": 0.1}


@pytest.mark.parametrize(
    "data",
    [DRAWN, {"name": "points", "points": [[0, 0], [1, 1]], "jitter": 0.5}],
    ids=["drawing", "points"],
)
def test_a_new_data_name_replaces_the_whole_data_section(data):
    cfg = parse_config({"data": data, "seed": 3})
    new = updated(cfg, {"data": {"name": "ring8"}})
    assert new.data == parse_config({"data": {"name": "ring8"}}).data
    assert new.data.strokes is None and new.data.points is None
    assert new.data.brush_width == 0.04 and new.data.jitter == 0.0  # defaults, not the old ones
    assert new.seed == 3  # other sections still merge


def test_a_data_patch_keeping_the_name_still_merges():
    cfg = parse_config({"data": DRAWN})
    for patch in ({"brush_width": 0.2}, {"name": "drawing", "brush_width": 0.2}):
        new = updated(cfg, {"data": patch})
        assert new.data.strokes == cfg.data.strokes and new.data.brush_width == 0.2


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"loss": {"kind": "x" * 900_000}}, "loss.kind"),
        ({"data": {"name": "y" * 900_000}}, "data.name"),
        ({"generator": {"layers": "z" * 900_000}}, "generator.layers"),
        ({"seed": 10**300}, "seed"),
        ({"seed": 10**5000}, "seed"),  # too long even for repr() under Python's digit limit
        ({"d_optimizer": {"lr": 10**400}}, "d_optimizer.lr"),
        ({"generator": {"k" * 900_000: 1}}, None),
    ],
    ids=["literal", "string", "integer-text", "int-300-digits", "int-5000-digits",
         "float-overflow", "unknown-field"],
)  # fmt: skip
def test_errors_quote_at_most_a_short_part_of_the_value(patch, field):
    with pytest.raises(ConfigError) as info:
        updated(ExperimentConfig(), patch)
    assert len(str(info.value)) < 250
    assert field is None or info.value.field == field
    assert len(info.value.field) <= 60


def test_strokes_are_bounded_whatever_the_data_name():
    from ganlab.engine.config import MAX_POINTS

    huge = [[(0.5, 0.5)] * 1000] * (MAX_POINTS // 1000 + 2)
    with pytest.raises(ConfigError):
        parse_config({"data": {"name": "ring8", "strokes": huge}})
