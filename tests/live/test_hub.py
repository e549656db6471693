import asyncio
import os
import queue

import pytest

from ganlab.live.hub import (
    BALANCE_GAP,
    WORKER_NICENESS,
    Hub,
    HubError,
    WorkerHandle,
    plan_move,
    with_queued,
)
from ganlab.live.settings import Settings
from ganlab.wire.envelope import decode


class FakeClient:
    def __init__(self):
        self.got, self.closed = [], None

    def deliver(self, kind, data):
        self.got.append((kind, data))

    def close(self, code, event):
        self.closed = (code, event)


class CreditingClient(FakeClient):
    """Takes every frame at once, as a fast connection does (a frame's credit goes back)."""

    def __init__(self, hub, rec):
        super().__init__()
        self.hub, self.rec = hub, rec

    def deliver(self, kind, data):
        super().deliver(kind, data)
        if kind == "frame":
            self.hub.credit(self.rec)


async def wait_for(cond, timeout=20.0):
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def run(coro_fn, workers_override=0, **settings):
    async def main():
        hub = Hub(Settings(workers=workers_override, device="cpu", **settings))
        await hub.start()
        try:
            await coro_fn(hub)
        finally:
            await hub.stop()

    asyncio.run(main())


def test_start_returns_once_every_engine_process_is_ready():
    # The server answers only when a session can be served at once (a page reconnecting
    # after a restart is then live again without waiting for the engines to start).
    async def body(hub):
        assert len(hub.workers) == 2
        assert all(w.ready.is_set() for w in hub.workers)

    run(body, workers_override=2)


def test_start_gives_up_waiting_for_an_engine_that_never_says_ready(monkeypatch, caplog):
    async def main():
        hub = Hub(Settings(workers=0, device="cpu"))
        # A worker that never answers: its ready message is dropped.
        monkeypatch.setattr(hub, "on_messages", lambda worker, msgs: None)
        await hub.start(ready_timeout=0.3)
        assert not hub.workers[0].ready.is_set()
        await hub.stop()

    asyncio.run(main())
    assert "not ready" in caplog.text


def test_create_resume_and_limits():
    async def body(hub):
        a = hub.create()
        hub.create()
        with pytest.raises(HubError) as info:
            hub.create()
        assert (info.value.code, info.value.close_code) == ("server_full", 1013)
        assert hub.resume(a.sid, a.token) is a
        with pytest.raises(HubError) as info:
            hub.resume(a.sid, "wrong")
        assert info.value.close_code == 4403
        with pytest.raises(HubError) as info:
            hub.resume("nope", a.token)
        assert info.value.close_code == 4404

    run(body, max_sessions=2)


def test_attach_greets_and_replaces_previous_client():
    async def body(hub):
        rec = hub.create()
        first, second = FakeClient(), FakeClient()
        hub.attach(rec, first, resumed=False)
        await wait_for(lambda: any(k == "frame" for k, _ in first.got))
        hello = next(d for k, d in first.got if k == "text")
        assert hello["type"] == "hello" and hello["token"] == rec.token
        assert hello["limits"]["max_points"] == 20_000
        hub.attach(rec, second, resumed=True)
        assert first.closed[0] == 4409 and first.closed[1]["code"] == "replaced"
        await wait_for(lambda: any(k == "text" and d["resumed"] for k, d in second.got))

    run(body)


def test_detached_sessions_expire():
    async def body(hub):
        rec = hub.create()
        client = FakeClient()
        hub.attach(rec, client, resumed=False)
        hub.detach(rec, client)
        assert rec.sid in hub.sessions
        await wait_for(lambda: rec.sid not in hub.sessions, timeout=10)
        assert not rec.worker.sessions

    run(body, session_timeout=1)


def test_a_dead_engine_process_loses_only_its_sessions_and_is_replaced():
    async def body(hub):
        rec = hub.create()
        client = FakeClient()
        hub.attach(rec, client, resumed=False)
        await wait_for(lambda: any(k == "frame" for k, _ in client.got), timeout=60)
        old = hub.workers[0]
        # Engine processes run at a lower priority than the server.
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, old.proc.pid) == min(19, own + WORKER_NICENESS)
        old.proc.kill()
        await wait_for(lambda: client.closed is not None, timeout=30)
        assert client.closed[0] == 1011 and client.closed[1]["code"] == "session_lost"
        assert rec.sid not in hub.sessions and hub.workers[0] is not old
        fresh, other = hub.create(), FakeClient()
        hub.attach(fresh, other, resumed=False)
        await wait_for(lambda: any(k == "frame" for k, _ in other.got), timeout=60)

    run(body, workers_override=1)


def rows(n, ips, key="k", prefix="s"):
    return [(f"{prefix}{i}", ips, key) for i in range(n)]


def test_plan_move_evens_out_clear_imbalances_only():
    a, b = "worker a", "worker b"
    # Even, or within the noise of scheduling: stay.
    assert plan_move([(a, rows(10, 100.0)), (b, rows(10, 100.0, prefix="t"))]) is None
    near = 100.0 * (1 + BALANCE_GAP) * 0.99
    assert plan_move([(a, rows(10, 100.0)), (b, rows(10, near, prefix="t"))]) is None
    # Twelve sessions at 60 against eight at 150: one of the twelve moves over.
    sid, dest = plan_move([(a, rows(12, 60.0)), (b, rows(8, 150.0, prefix="t"))])
    assert dest == b and sid.startswith("s")
    # A worker with nothing playing takes one from a busy worker...
    assert plan_move([(a, rows(4, 100.0)), (b, [])])[1] == b
    # ...but a lone session has nowhere better to go, and one worker cannot balance.
    assert plan_move([(a, rows(1, 10.0)), (b, [])]) is None
    assert plan_move([(a, rows(5, 10.0))]) is None
    assert plan_move([(a, []), (b, [])]) is None


def test_plan_move_prefers_a_session_that_joins_a_group_over_there():
    slow = [("x", 50.0, "shape-1"), ("y", 50.0, "shape-2"), ("z", 50.0, None)]
    fast = rows(3, 200.0, key="shape-2", prefix="t")
    assert plan_move([("a", slow), ("b", fast)]) == ("y", "b")


def test_a_session_moves_to_another_worker_and_what_was_sent_meanwhile_follows_it():
    async def body(hub):
        hub.workers.append(WorkerHandle(hub, 1, in_process=True))
        rec = hub.create()
        source = rec.worker
        dest = next(w for w in hub.workers if w is not source)
        client = CreditingClient(hub, rec)
        hub.attach(rec, client, resumed=False)
        hub.command(rec, {"type": "play"})

        def frames():
            return [decode(d).header for k, d in client.got if k == "frame"]

        await wait_for(lambda: any(h["iteration"] > 20 for h in frames()), timeout=60)
        hub.move(rec, dest)
        assert rec.moving_to is dest
        hub.command(rec, {"type": "config", "id": 7, "set": {"g_optimizer": {"lr": 0.0123}}})
        hub.command(rec, {"type": "ping", "id": 8})
        await wait_for(lambda: rec.moving_to is None, timeout=30)
        assert rec.worker is dest and rec.sid in dest.sessions and rec.sid not in source.sessions
        before = max(h["iteration"] for h in frames())
        # The commands sent during the move were applied over there, and training goes on.
        await wait_for(lambda: any(h["applied"] == 8 and h["iteration"] > before + 20
                                   for h in frames()), timeout=60)  # fmt: skip
        events = [d for k, d in client.got if k == "text"]
        assert any(e["type"] == "config" and e["id"] == 7 for e in events)
        assert any(e["type"] == "pong" and e["id"] == 8 for e in events)
        assert not any(e["type"] == "error" for e in events)

    run(body)


def test_messages_queued_for_a_worker_go_together_and_stop_stays_last():
    box = queue.SimpleQueue()
    for item in ("b", "c", None):
        box.put(item)
    assert with_queued("a", box) == ["a", "b", "c"]
    assert box.get_nowait() is None and box.empty()
    for i in range(5):
        box.put(i)
    assert with_queued("x", box, limit=3) == ["x", 0, 1]
    assert [box.get_nowait() for _ in range(3)] == [2, 3, 4]
    assert with_queued("only", box) == ["only"]
