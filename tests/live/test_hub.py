import asyncio
import logging
import os
import signal
import time

import pytest

from ganlab.live import engine_messages as em
from ganlab.live.hub import WORKER_NICENESS, Hub, HubError, WorkerHandle
from ganlab.live.session import Limits, Session
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
        b = hub.create()
        hub.attach(a, FakeClient(), resumed=False)
        hub.attach(b, FakeClient(), resumed=False)
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


def test_a_dead_engine_process_loses_only_its_sessions_without_a_checkpoint_and_is_replaced():
    async def body(hub):
        rec = hub.create()
        client = FakeClient()
        hub.attach(rec, client, resumed=False)
        await wait_for(lambda: any(k == "frame" for k, _ in client.got), timeout=60)
        old = hub.workers[0]
        # Engine processes run at a lower priority than the server.
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, old.proc.pid) == min(19, own + WORKER_NICENESS)
        pid = old.proc.pid
        old.proc.kill()
        await wait_for(lambda: client.closed is not None, timeout=30)
        assert client.closed[0] == 1011 and client.closed[1]["code"] == "session_lost"
        assert rec.sid not in hub.sessions and hub.workers[0] is not old
        await wait_for(lambda: reaped(pid), timeout=20)
        fresh, other = hub.create(), FakeClient()
        hub.attach(fresh, other, resumed=False)
        await wait_for(lambda: any(k == "frame" for k, _ in other.got), timeout=60)

    run(body, workers_override=1, checkpoint_seconds=3600)  # (none written before the kill)


def reaped(pid):
    """Whether the child process `pid` is gone for good: a dead child not yet joined (a
    zombie) keeps its /proc entry."""
    return not os.path.exists(f"/proc/{pid}")


def test_a_resumed_client_hears_nothing_before_its_hello(monkeypatch):
    """What the engine sent for the connection before (an answer to its command, a frame, a
    saved run) and the hub hears after the new client came is not the new client's."""

    async def body(hub):
        rec = hub.create()
        old = FakeClient()
        hub.attach(rec, old, resumed=False)
        await wait_for(lambda: any(k == "text" and d["type"] == "hello" for k, d in old.got))
        hub.detach(rec, old)
        credits = []
        monkeypatch.setattr(hub, "credit", lambda r: credits.append(r.sid))
        new = FakeClient()
        hub.attach(rec, new, resumed=True)
        worker = rec.worker
        hub.on_message(worker, em.Text(rec.sid, {"type": "state", "playing": True}))
        hub.on_message(worker, em.Frame(rec.sid, b"stale"))
        hub.on_message(worker, em.Binary(rec.sid, b"run"))
        assert new.got == [] and credits == [rec.sid]  # (the frame's credit goes back)
        hello = {"type": "hello", "session": rec.sid}
        hub.on_message(worker, em.Text(rec.sid, hello))
        hub.on_message(worker, em.Frame(rec.sid, b"fresh"))
        hub.on_message(worker, em.Text(rec.sid, {"type": "state", "playing": False}))
        assert new.got == [("text", hello), ("frame", b"fresh"),
                           ("text", {"type": "state", "playing": False})]  # fmt: skip

    run(body)


def applied_frames(client):
    return [decode(d).header["applied"] for k, d in client.got if k == "frame"]


def test_a_stopped_engine_process_is_found_hung_killed_and_replaced(caplog):
    # SIGSTOP: the process lives but says nothing, its pipe open. Its heartbeats stop.
    async def body(hub):
        recs = [hub.create(), hub.create()]
        stuck, other = recs[0].worker, recs[1].worker
        assert stuck is not other  # one session each
        clients = [CreditingClient(hub, rec) for rec in recs]
        for rec, client in zip(recs, clients, strict=True):
            hub.attach(rec, client, resumed=False)
        await wait_for(lambda: all(applied_frames(c) for c in clients), timeout=60)
        pid = stuck.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await wait_for(lambda: clients[0].closed is not None, timeout=60)
        finally:
            if not reaped(pid):
                os.kill(pid, signal.SIGCONT)
        assert clients[0].closed[0] == 1011 and clients[0].closed[1]["code"] == "session_lost"
        assert recs[0].sid not in hub.sessions and stuck not in hub.workers
        await wait_for(lambda: reaped(pid), timeout=20)
        # The other session goes on, on its process; the fresh one takes new sessions.
        assert clients[1].closed is None and hub.workers[other.index] is other
        hub.command(recs[1], {"type": "step", "id": 5})
        await wait_for(lambda: 5 in applied_frames(clients[1]), timeout=30)
        fresh = hub.workers[stuck.index]
        await wait_for(fresh.ready.is_set, timeout=120)
        rec = hub.create()
        client = CreditingClient(hub, rec)
        assert rec.worker is fresh
        hub.attach(rec, client, resumed=False)
        await wait_for(lambda: applied_frames(client), timeout=60)

    run(body, workers_override=2, engine_hang_seconds=5, checkpoint_seconds=3600)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("hung" in line and "said nothing" in line for line in lines), lines


def test_a_full_server_frees_the_slot_of_the_session_without_a_client_longest(caplog):
    caplog.set_level(logging.INFO, "ganlab.sessions")

    async def body(hub):
        recs = [hub.create() for _ in range(3)]
        clients = [FakeClient() for _ in recs]
        for rec, client in zip(recs, clients, strict=True):
            hub.attach(rec, client, resumed=False)
        with pytest.raises(HubError) as info:  # every session has a client: full
            hub.create()
        assert info.value.code == "server_full" and "each with a client" in info.value.message
        hub.detach(recs[1], clients[1])
        hub.detach(recs[0], clients[0])
        hub.create()
        assert recs[1].sid not in hub.sessions and recs[0].sid in hub.sessions
        assert f"session {recs[1].sid} evicted" in caplog.text
        with pytest.raises(HubError) as info:
            hub.resume(recs[1].sid, recs[1].token)
        assert info.value.code == "unknown_session" and "make room" in info.value.message
        assert hub.resume(recs[0].sid, recs[0].token) is recs[0]
        # Connecting and closing again and again never fills the server.
        for _ in range(64):
            rec, client = hub.create(), FakeClient()
            hub.attach(rec, client, resumed=False)
            hub.detach(rec, client)
        assert len(hub.sessions) == 3 and recs[2].sid in hub.sessions

    run(body, max_sessions=3)


def test_refused_resumes_are_logged_once_per_interval_with_a_count(caplog):
    async def body(hub):
        a, b = hub.create(), hub.create()
        for token in ["wrong"] * 50 + [None]:
            with pytest.raises(HubError):
                hub.resume(a.sid, token)
        with pytest.raises(HubError):
            hub.resume(b.sid, "")

        def lines():
            return [r.getMessage() for r in caplog.records if "resume refused" in r.getMessage()]

        assert len(lines()) == 2 and a.sid in lines()[0] and b.sid in lines()[1]
        hub.refusals.clock = lambda: time.monotonic() + 10.0  # ten seconds later
        with pytest.raises(HubError):
            hub.resume(a.sid, "wrong")
        assert len(lines()) == 3 and a.sid in lines()[2] and "50 more" in lines()[2]
        assert a.token not in caplog.text and b.token not in caplog.text

    run(body)


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


# ---------------------------------------------------------------- runs that survive
def hello_of(client):
    return next(d for k, d in client.got if k == "text" and d["type"] == "hello")


def checkpointed_iteration(hub, sid):
    """The iteration of `sid`'s checkpoint on disk, or -1 without one."""
    data = hub.store.load(sid)
    return -1 if data is None else Session.restore(data, Limits(), 30)[0].trainer.iteration


def test_a_dead_engine_process_s_sessions_come_back_from_their_checkpoints(tmp_path, capfd):
    sids = []

    async def body(hub):
        rec = hub.create()
        sids.append(rec.sid)
        client = CreditingClient(hub, rec)
        hub.attach(rec, client, resumed=False)
        hub.command(rec, {"type": "play"})
        await wait_for(lambda: checkpointed_iteration(hub, rec.sid) > 0, timeout=60)
        saved = checkpointed_iteration(hub, rec.sid)
        old = hub.workers[0]
        old.proc.kill()
        # The client is told to reconnect (1012), not to start afresh: its run is restored.
        await wait_for(lambda: client.closed is not None, timeout=30)
        assert client.closed[0] == 1012 and client.closed[1]["code"] == "engine_restarted"
        assert rec.sid in hub.sessions and rec.worker is hub.workers[0] is not old
        hub.detach(rec, client)
        assert hub.resume(rec.sid, rec.token) is rec
        back = CreditingClient(hub, rec)
        hub.attach(rec, back, resumed=True)
        await wait_for(lambda: applied_frames(back), timeout=120)
        hello = hello_of(back)
        assert hello["restored"] is True and hello["resumed"] is True
        assert hello["iteration"] >= saved and hello["playing"] is True  # it played: it plays on
        await wait_for(lambda: decode(back.got[-1][1]).header["iteration"] > hello["iteration"]
                       if back.got[-1][0] == "frame" else False, timeout=30)  # fmt: skip

    run(body, workers_override=1, checkpoint_seconds=1, state_dir=str(tmp_path))
    # The fresh engine process's own log line reaches the server's output (its stderr).
    err = capfd.readouterr().err
    assert f"INFO ganlab.engine_process session {sids[0]} restored from its checkpoint" in err, err[
        -2000:
    ]


def restart(tmp_path, first, then, **settings):
    """Run `first(hub)` on a server, stop it, then `then(hub, what_first_returned)` on a
    new server on the same state directory."""

    async def main():
        made = {}

        async def one(hub):
            made["it"] = await first(hub)

        for body in (one, lambda hub: then(hub, made["it"])):
            hub = Hub(Settings(workers=0, device="cpu", state_dir=str(tmp_path), **settings))
            await hub.start()
            try:
                await body(hub)
            finally:
                await hub.stop()

    asyncio.run(main())


def test_a_restarted_server_gives_each_client_its_own_run_back(tmp_path):
    async def first(hub):
        playing, paused = hub.create(), hub.create()
        clients = [CreditingClient(hub, rec) for rec in (playing, paused)]
        for rec, client in zip((playing, paused), clients, strict=True):
            hub.attach(rec, client, resumed=False)
        hub.command(playing, {"type": "play"})
        hub.command(paused, {"type": "config", "set": {"d_optimizer": {"lr": 0.0123}}})
        hub.command(paused, {"type": "step", "id": 7})
        await wait_for(lambda: 7 in applied_frames(clients[1]), timeout=60)
        await wait_for(lambda: len(applied_frames(clients[0])) > 5, timeout=60)
        return playing, paused  # the server stops with both still connected

    async def then(hub, recs):
        playing, paused = recs
        assert set(hub.dormant) >= {playing.sid, paused.sid}
        with pytest.raises(HubError) as refused:
            hub.resume(paused.sid, "not-its-token")
        assert refused.value.code == "bad_token"
        got = {}
        for rec in (playing, paused):
            back = hub.resume(rec.sid, rec.token)
            assert back.sid == rec.sid and rec.sid not in hub.dormant
            got[rec.sid] = client = CreditingClient(hub, back)
            hub.attach(back, client, resumed=True)
        await wait_for(lambda: all(applied_frames(c) for c in got.values()), timeout=60)
        one, two = hello_of(got[playing.sid]), hello_of(got[paused.sid])
        assert one["restored"] and one["playing"] is True and one["iteration"] > 0
        # Saved when the server stopped: nothing of the paused run was lost.
        assert two["restored"] and two["playing"] is False and two["iteration"] == 1
        assert two["config"]["d_optimizer"]["lr"] == 0.0123

    restart(tmp_path, first, then)


def test_a_damaged_checkpoint_is_refused_with_a_log_line_and_nothing_else_is_lost(tmp_path, caplog):
    async def first(hub):
        recs = [hub.create() for _ in range(3)]
        clients = [CreditingClient(hub, rec) for rec in recs]
        for rec, client in zip(recs, clients, strict=True):
            hub.attach(rec, client, resumed=False)
            hub.command(rec, {"type": "step", "id": 1})
        await wait_for(lambda: all(1 in applied_frames(c) for c in clients), timeout=60)
        return recs

    async def then(hub, recs):
        bad_head, bad_body, good = recs
        store = hub.store
        store.save(bad_head.sid, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
        data = store.load(bad_body.sid)
        store.save(bad_body.sid, data[: len(data) - 100])  # the header intact, tensors cut
        with pytest.raises(HubError) as refused:
            hub.resume(bad_head.sid, bad_head.token)
        assert refused.value.code == "unknown_session" and "damaged" in refused.value.message
        assert store.load(bad_head.sid) is None
        rec = hub.resume(bad_body.sid, bad_body.token)
        client = FakeClient()
        hub.attach(rec, client, resumed=True)
        await wait_for(lambda: client.closed is not None, timeout=60)
        assert client.closed[0] == 1011 and client.closed[1]["code"] == "session_lost"
        assert bad_body.sid not in hub.sessions and store.load(bad_body.sid) is None
        # The good one comes back; a new session starts as always.
        back = hub.resume(good.sid, good.token)
        fine = CreditingClient(hub, back)
        hub.attach(back, fine, resumed=True)
        fresh = hub.create()
        other = CreditingClient(hub, fresh)
        hub.attach(fresh, other, resumed=False)
        await wait_for(lambda: applied_frames(fine) and applied_frames(other), timeout=60)
        assert hello_of(fine)["iteration"] == 1 and hello_of(other)["iteration"] == 0

    restart(tmp_path, first, then)
    refused = [r.getMessage() for r in caplog.records if "checkpoint refused" in r.getMessage()]
    assert len(refused) == 2, refused


def test_checkpoints_nobody_resumes_expire_after_the_session_timeout(tmp_path):
    async def first(hub):
        rec = hub.create()
        hub.command(rec, {"type": "step"})
        return rec

    async def then(hub, rec):
        assert rec.sid in hub.dormant and hub.store.load(rec.sid) is not None
        await wait_for(lambda: hub.store.load(rec.sid) is None, timeout=30)
        assert rec.sid not in hub.dormant
        with pytest.raises(HubError) as gone:
            hub.resume(rec.sid, rec.token)
        assert gone.value.code == "unknown_session"

    restart(tmp_path, first, then, session_timeout=1)


def test_an_ended_session_s_checkpoint_is_deleted(tmp_path):
    async def body(hub):
        rec = hub.create()
        hub.attach(rec, FakeClient(), resumed=False)
        hub.command(rec, {"type": "step"})
        await wait_for(lambda: hub.store.load(rec.sid) is not None, timeout=30)
        hub.drop(rec, "ended by the test")
        await wait_for(lambda: hub.store.load(rec.sid) is None, timeout=30)

    run(body, checkpoint_seconds=1, state_dir=str(tmp_path))
