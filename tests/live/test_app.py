import logging

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.presets import PRESETS
from ganlab.live.app import create_app
from ganlab.live.security import RedactTokens
from ganlab.live.settings import Settings

# The app serves only the host names it is allowed (TestClient's default is "testserver").
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")


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


# --------------------------------------------------------------------------- host names


def test_a_host_not_served_is_refused_before_any_route():
    other = TestClient(create_app())  # Host: testserver
    for path in ("/healthz", "/", "/api/presets", "/docs"):
        assert other.get(path).status_code == 400
    # The websocket handshake too, before the endpoint could create a session.
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        other.websocket_connect("/ws", headers={"origin": "http://testserver"}),
    ):
        pass
    assert info.value.status_code == 400


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST"])
def test_this_machines_names_are_served(host):
    assert client.get("/healthz", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    ("settings", "host", "ok"),
    [
        (Settings(host="10.1.2.3"), "10.1.2.3:8000", True),  # the address listened on
        (Settings(host="0.0.0.0"), "0.0.0.0:8000", False),  # every interface names no host
        (Settings(host="0.0.0.0"), "10.1.2.3:8000", False),
        (Settings(host="0.0.0.0", allowed_hosts=["10.1.2.3"]), "10.1.2.3:8000", True),
        (Settings(allowed_hosts=["*.lab.example"]), "a.lab.example", True),
        (Settings(allowed_hosts=["*.lab.example"]), "lab.example.evil", False),
        (Settings(allowed_hosts=["*"]), "anything.example", True),
    ],
)
def test_allowed_hosts(settings, host, ok):
    app = TestClient(create_app(settings))
    assert (app.get("/healthz", headers={"host": host}).status_code == 200) is ok


def test_refused_hosts_are_logged_once_per_interval_per_name(caplog):
    caplog.set_level(logging.WARNING, logger="ganlab.security")
    other = TestClient(create_app())
    for _ in range(20):
        assert other.get("/healthz").status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "ganlab.security"]
    assert len(lines) == 1 and "'testserver'" in lines[0] and "GANLAB_ALLOWED_HOSTS" in lines[0]


def test_the_app_keeps_tokens_out_of_uvicorns_log():
    """However it is run (`uvicorn --factory ganlab.live.app:create_app` too)."""
    create_app()
    for name in ("uvicorn.access", "uvicorn.error"):
        assert sum(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters) == 1
