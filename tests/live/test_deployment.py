"""deploy/: the compose file parses, its web servers' command line and settings are ones
`ganlab serve` accepts, and what docs/deployment.md promises of it holds (shared state at
one path, only the load balancer published, the Ray network private, websockets upgraded)."""

import shlex
from pathlib import Path

import yaml  # (comes with Ray, which the Ray tests need too)

from ganlab.cli.main import make_parser
from ganlab.live.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_web_servers_command_and_settings_are_valid_for_ganlab_serve():
    web = compose()["services"]["web"]
    script = web["command"][-1]
    join, serve = (part.strip() for part in script.split("&&"))
    assert join.startswith("ray start --address ray-head:6379 --num-cpus 0")
    argv = shlex.split(serve)
    assert argv[:2] == ["exec", "ganlab"]
    args = make_parser().parse_args(argv[2:])
    env = {k.removeprefix("GANLAB_").lower(): v for k, v in web["environment"].items()}
    env = {k: v.split(":-", 1)[1].rstrip("}") if v.startswith("${") else v
           for k, v in env.items()}  # compose's defaults  # fmt: skip
    settings = Settings(host=args.host, port=args.port, ray_address=args.ray, **env)
    assert settings.ray_address == "ray-head:6379" and settings.workers == 8
    head = compose()["services"]["ray-head"]["command"]
    assert "--port 6379" in head and "--include-dashboard false" in head


def test_every_ganlab_container_shares_the_state_directory_at_one_path():
    services = compose()["services"]
    state = services["web"]["environment"]["GANLAB_STATE_DIR"]
    for name in ("ray-head", "ray-worker", "web"):
        assert f"state:{state}" in services[name]["volumes"], name
    assert "state" in compose()["volumes"]


def test_only_the_load_balancer_is_published_and_the_cluster_network_is_private():
    doc = compose()
    published = [name for name, svc in doc["services"].items() if svc.get("ports")]
    assert published == ["balancer"]
    assert doc["networks"]["cluster"]["internal"] is True
    for name in ("ray-head", "ray-worker", "web"):
        assert doc["services"][name]["networks"] == ["cluster"], name
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_set_header Host $host;" in nginx and "server web:8000" in nginx
    conf = doc["services"]["balancer"]["volumes"][0].split(":")[0]
    assert (DEPLOY / conf).resolve() == DEPLOY / "nginx.conf"
