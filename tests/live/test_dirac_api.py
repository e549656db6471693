"""POST /api/dirac against the real app: the engine's answer, and clear refusals."""

import numpy as np
from fastapi.testclient import TestClient

from ganlab.engine import dirac
from ganlab.engine.config import parse_config
from ganlab.live.app import create_app

client = TestClient(create_app(), base_url="http://127.0.0.1:8000")


def test_answer_is_the_engines():
    body = {"config": {"loss": {"kind": "hinge"}, "training": {"scheme": "simultaneous"},
                       "g_optimizer": {"kind": "sgd", "lr": 0.05}},
            "steps": 120, "start": [0.5, -1.0]}  # fmt: skip
    res = client.post("/api/dirac", json=body)
    assert res.status_code == 200
    got = res.json()
    c = parse_config(body["config"])
    path = dirac.trajectory(c, 120, (0.5, -1.0))
    np.testing.assert_allclose(got["path"], path, rtol=1e-12)
    assert got["iterations"] == 120 and got["start"] == [0.5, -1.0]
    v = dirac.verdict(path, dirac.rates(c))
    assert got["verdict"]["kind"] == v.kind and got["verdict"]["words"] == v.words
    assert got["rates"] == {"theta": 0.05, "psi": c.d_optimizer.lr}
    # D trains with Adam here: the answer says what plain SGD at the same rates would do.
    sgd = parse_config({**body["config"], "d_optimizer": {"kind": "sgd", "lr": c.d_optimizer.lr}})
    plain = dirac.verdict(dirac.trajectory(sgd, 120, (0.5, -1.0)), dirac.rates(sgd))
    assert got["plain_sgd"] == {
        "kind": plain.kind,
        "words": plain.words,
        "turns": plain.turns,
        "ratio": plain.ratio,
    }
    # Hinge: ±i at the equilibrium.
    assert sorted(got["eigenvalues"]) == [[0.0, -1.0], [0.0, 1.0]]
    half = got["half"]
    assert all(h >= 1.5 for h in half)
    assert all(np.abs(np.array(got["path"])).max(axis=0) <= half)


def test_defaults_follow_the_page_defaults():
    got = client.post("/api/dirac", json={"steps": 10}).json()
    np.testing.assert_allclose(got["path"], dirac.trajectory(parse_config({}), 10), rtol=1e-12)
    assert got["start"] == [1.0, -1.0]


def test_bad_input_is_refused_with_what_is_allowed():
    cases = [
        ({"config": {"loss": {"kind": "nope"}}}, "config.loss.kind: must be one of"),
        ({"config": {"d_optimizer": {"lr": 0}}}, "config.d_optimizer.lr: must be > 0"),
        ({"steps": 50_001}, "steps: must be <= 50000"),
        ({"start": [1, 2, 3]}, "start"),
        ({"start": [1e9, 0]}, "start: must be two finite numbers within ±100"),
        ({"colour": "red"}, "colour: is not a known field"),
        ([1, 2], "the body must be a JSON object"),
    ]
    for body, message in cases:
        res = client.post("/api/dirac", json=body)
        assert res.status_code == 422, body
        assert res.json()["detail"].startswith(message), res.json()
