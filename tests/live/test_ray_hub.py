"""The server with its engines on a Ray cluster (a real local one, for the module): sessions
through the real app, a session resumed through a second web server, and an actor killed
with its sessions restored from their checkpoints."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import ray
from fastapi.testclient import TestClient
from test_websocket import WS, Closed, connect, is_event, session

from ganlab.live import ray_engine
from ganlab.live.app import create_app
from ganlab.live.checkpoints import CheckpointStore, default_directory
from ganlab.live.ray_cluster import LocalCluster
from ganlab.live.ray_engine import actor_name
from ganlab.live.session import Limits, Session
from ganlab.live.settings import Settings


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    local = LocalCluster(num_cpus=2)
    address = local.start()
    try:
        yield address
    finally:
        ray.shutdown()
        left = local.stop()
        assert not left, f"processes of the test cluster left running: {left}"


def web_server(address: str, state_dir: str) -> TestClient:
    """One web server of the deployment: two engine actors, checkpoints every second."""
    settings = Settings(ray_address=address, workers=2, device="cpu", state_dir=state_dir,
                        checkpoint_seconds=1, allowed_hosts=["testserver"],
                        commands_per_second=10_000)  # fmt: skip
    return TestClient(create_app(settings))


def iteration_after(ws: WS, at_least: int, timeout: float = 30.0) -> int:
    frame = ws.frame(lambda h: h["iteration"] > at_least, timeout=timeout)
    return int(frame.header["iteration"])


def saved_iteration(state_dir: str, sid: str) -> int:
    """The iteration of `sid`'s checkpoint, or -1 without one."""
    store = CheckpointStore(default_directory(state_dir), 1 << 30)
    data = store.load(sid)
    return -1 if data is None else Session.restore(data, Limits(), 30)[0].trainer.iteration


def wait_until(cond: Any, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)


def test_a_session_on_the_cluster_is_served_by_any_web_server_and_outlives_its_actor(
    cluster: str, tmp_path: Any
) -> None:
    state = str(tmp_path)
    with web_server(cluster, state) as a, web_server(cluster, state) as b:
        hub_a, hub_b = a.app.state.hub, b.app.state.hub  # type: ignore[attr-defined]
        assert hub_a.ray.server_id != hub_b.ray.server_id
        # Play, frames, a command answered: the engines are actors, not this process.
        with session(a) as first:
            sid, token = first.hello["session"], first.hello["token"]
            rec = hub_a.sessions[sid]
            assert rec.worker.pid is not None and rec.worker.pid != os.getpid()
            first.send("play")
            cid = first.send("config", set={"d_optimizer": {"lr": 0.002}})
            answer = first.event("config", cid)
            assert answer["config"]["d_optimizer"]["lr"] == 0.002
            before = iteration_after(first, 30)

            # Through the second web server: a wrong token is refused, the right one takes
            # the live session over (no checkpoint involved: it goes on past `before`).
            with connect(b, f"/ws?session={sid}&token=x{token}") as wrong:
                assert wrong.recv()["code"] == "bad_token" and wrong.recv() == Closed(4403)
            with connect(b, f"/ws?session={sid}&token={token}") as second:
                hello = second.recv()
                assert is_event(hello, "hello") and hello["resumed"] is True
                assert hello.get("restored") is not True and hello["iteration"] >= before
                taken = first.until(lambda m: isinstance(m, Closed), timeout=30)
                assert taken == Closed(4409)
                assert sid not in hub_a.sessions and hub_b.sessions[sid].worker.index == (
                    rec.worker.index)  # fmt: skip
                second.send("play")
                live = iteration_after(second, hello["iteration"] + 20)
                assert live > before

                # The actor dies: its sessions come back from their checkpoints on a fresh
                # one, and the client, told to reconnect (1012), resumes there.
                wait_until(lambda: saved_iteration(state, sid) > hello["iteration"])
                saved = saved_iteration(state, sid)
                index = hub_b.sessions[sid].worker.index
                ray.kill(ray.get_actor(actor_name(index), namespace=ray_engine.NAMESPACE))
                closed = second.until(lambda m: isinstance(m, Closed), timeout=30)
                assert closed == Closed(1012)
            with session(b, f"/ws?session={sid}&token={token}") as back:
                assert back.hello["restored"] is True and back.hello["iteration"] >= saved
                assert back.hello["playing"] is True
                iteration_after(back, back.hello["iteration"] + 5)
            assert hub_b.sessions[sid].worker in hub_b.workers


def test_a_session_nobody_holds_is_unknown_everywhere(cluster: str, tmp_path: Any) -> None:
    with web_server(cluster, str(tmp_path)) as a, connect(a, "/ws?session=nope&token=t") as ws:
        assert ws.recv()["code"] == "unknown_session" and ws.recv() == Closed(4404)
