import asyncio
import os

import pytest

from ganlab.hub import WORKER_NICENESS, Hub, HubError
from ganlab.settings import Settings


class FakeClient:
    def __init__(self):
        self.got, self.closed = [], None

    def deliver(self, kind, data):
        self.got.append((kind, data))

    def close(self, code, event):
        self.closed = (code, event)


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
