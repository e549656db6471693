"""deploy/: the compose file parses, its web servers' command line and settings are ones
`ganlab serve` accepts, and what docs/deployment.md promises of it holds (shared state at
one path, only the load balancer published, the Ray network private, websockets upgraded);
and the deployment for real, without Docker: a local Ray cluster, two `ganlab serve --ray`
web servers, and Debian's nginx with deploy/nginx.conf in front (scripts/setup --e2e
installs it), a client's session resumed through whichever web server nginx picks."""

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
import yaml  # (comes with Ray, which the Ray tests need too)

from ganlab.cli.main import make_parser
from ganlab.live.ray_cluster import LocalCluster, free_port
from ganlab.live.settings import Settings
from ganlab.wire.envelope import decode_header

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


# ------------------------------------------------------------------ the deployment, for real
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UPSTREAM = "    server web:8000 max_fails=3 fail_timeout=10s;"


def nginx_conf(prefix: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf as it is, but for the web servers on this machine's `upstreams`
    ports, listening on `listen`, inside the main context an nginx of its own needs."""
    site = (DEPLOY / "nginx.conf").read_text()
    assert UPSTREAM in site and "    listen 8080;" in site  # (what is replaced is there)
    servers = "\n".join(f"    server 127.0.0.1:{port};" for port in upstreams)
    site = site.replace(UPSTREAM, servers).replace("    listen 8080;",
                                                    f"    listen 127.0.0.1:{listen};")  # fmt: skip
    temp = "\n".join(f"{kind}_temp_path {prefix}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    conf = prefix / "nginx.conf"
    conf.write_text(f"""daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_uri $upstream_addr $status';
    access_log {prefix}/access.log upstream;
    {temp}
{site}
}}
""")
    return conf


def answers(url: str, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            assert time.monotonic() < end, f"{url} did not answer"
            time.sleep(0.2)


async def visit(url: str, sid: str | None, token: str | None, after: int) -> dict:
    """Open the session (a new one without `sid`), play, and come back with the hello and
    the iteration of a frame past `after`."""
    query = "" if sid is None else f"?session={sid}&token={token}"
    async with websockets.connect(url + query, max_size=None, compression=None) as ws:
        hello = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "play"}))
        while True:
            msg = await asyncio.wait_for(ws.recv(), 60)
            if isinstance(msg, bytes):
                header, _ = decode_header(msg)
                if header["kind"] == "frame" and header["iteration"] > after:
                    return {"hello": hello, "iteration": header["iteration"]}


def test_behind_the_deployments_nginx_any_web_server_serves_a_session(tmp_path):
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing (scripts/setup --e2e installs it)")
        pytest.skip("nginx is missing (scripts/setup --e2e installs it)")
    ganlab = Path(sys.executable).with_name("ganlab")
    local = LocalCluster(num_cpus=2)
    address = local.start()
    servers, nginx = [], None
    try:
        ports = [free_port(), free_port()]
        env = {**os.environ, "GANLAB_WORKERS": "1", "GANLAB_DEVICE": "cpu",
               "GANLAB_STATE_DIR": str(tmp_path / "state")}  # fmt: skip
        for port in ports:
            with (tmp_path / f"web-{port}.log").open("wb") as log:  # (the child keeps its own)
                servers.append(subprocess.Popen(
                    [str(ganlab), "serve", "--ray", address, "--port", str(port)], env=env,
                    stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
        for port in ports:
            answers(f"http://127.0.0.1:{port}/healthz")
        listen = free_port()
        conf = nginx_conf(tmp_path, listen, ports)
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-e",
                                  str(tmp_path / "error.log")])  # fmt: skip
        answers(f"http://127.0.0.1:{listen}/healthz")

        # One session, visited four times through nginx (round robin: each web server
        # twice); it plays on between the visits, and each visit finds it.
        url = f"ws://127.0.0.1:{listen}/ws"
        first = asyncio.run(visit(url, None, None, 0))
        sid, token = first["hello"]["session"], first["hello"]["token"]
        last = first["iteration"]
        for _ in range(3):
            again = asyncio.run(visit(url, sid, token, last))
            assert again["hello"].get("session") == sid, again["hello"]
            assert again["hello"]["resumed"] is True
            assert again["hello"]["iteration"] >= last and again["iteration"] > last
            last = again["iteration"]
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(30)
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(60)
        left = local.stop()
    assert not left, f"processes of the test cluster left running: {left}"
    # Both web servers served the websocket (nginx's log names the upstream of each).
    served = re.findall(r"^/ws\S* (127\.0\.0\.1:\d+) 101$", (tmp_path / "access.log").read_text(),
                        re.M)  # fmt: skip
    assert len(served) == 4 and {p.split(":")[1] for p in served} == {str(p) for p in ports}
