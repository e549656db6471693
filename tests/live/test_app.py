from fastapi.testclient import TestClient

from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.presets import PRESETS
from ganlab.live.app import create_app

client = TestClient(create_app())


def test_health_and_front_page():
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "ganlab" in page.text


def test_presets_distributions_schema():
    presets = client.get("/api/presets").json()
    assert [p["name"] for p in presets] == list(PRESETS)
    assert all(p["config"]["data"]["name"] for p in presets)
    titles = [p["title"] for p in presets]
    assert titles == [p.title for p in PRESETS.values()]
    assert all(isinstance(t, str) and t.strip() for t in titles)
    assert len(set(titles)) == len(titles)
    assert all(p["description"] == PRESETS[p["name"]].description for p in presets)
    dists = client.get("/api/distributions").json()
    assert {d["name"] for d in dists} == set(DISTRIBUTIONS)
    grid = next(d for d in dists if d["name"] == "grid25")
    assert len(grid["modes"]) == 25 and grid["box"] == [-6, 6, -6, 6]
    schema = client.get("/api/schema").json()
    assert "generator" in schema["properties"]
    assert {x["name"] for x in client.get("/api/losses").json()} >= {"log", "wgan_gp"}


def test_openapi_docs_stay_on():
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_unknown_path_is_404():
    assert client.get("/api/nope").status_code == 404
