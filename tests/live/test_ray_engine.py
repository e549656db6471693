"""The Ray engine: the queue connection and the router on their own, then engine actors on a
real local Ray cluster (one for the module, started and ended here, apart from any other)."""

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from multiprocessing import AuthenticationError
from pathlib import Path

import pytest
import ray

from ganlab.live import engine_messages as em
from ganlab.live import ray_engine
from ganlab.live.ray_cluster import LocalCluster
from ganlab.live.ray_engine import (
    EngineActor,
    QueueConnection,
    RayWorkerHandle,
    Router,
    Taken,
    actor_name,
)
from ganlab.live.socket_link import dial
from ganlab.wire.envelope import decode

SMALL = {"generator": {"neurons": 8}, "discriminator": {"neurons": 8}, "device": "cpu",
         "view": {"grid": 16, "fakes": 24, "reals": 24}}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def test_without_ray_ganlab_imports_and_the_ray_engine_says_what_to_install():
    script = textwrap.dedent("""
        import sys
        sys.modules["ray"] = None  # as if not installed: importing it fails
        import ganlab.live.hub, ganlab.live.ray_engine as r
        try:
            r.connect("auto")
        except RuntimeError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)  # fmt: skip
    expected = "the Ray engine needs the optional extra: pip install 'ganlab[ray]'"
    assert out.stdout.strip() == expected


# ------------------------------------------------------------------ the connection


def test_queue_connection_behaves_as_a_pipe_end():
    incoming, outgoing = queue.Queue(), queue.Queue()
    conn = QueueConnection(incoming, outgoing)
    assert conn.poll(0) is False
    start = time.monotonic()
    assert conn.poll(0.05) is False
    assert time.monotonic() - start >= 0.05  # it waited
    incoming.put("a")
    incoming.put("b")
    assert conn.poll(0) and conn.poll(0)  # polling twice takes nothing away
    assert [conn.recv(), conn.recv()] == ["a", "b"]
    threading.Timer(0.05, incoming.put, ("late",)).start()
    assert conn.poll(None) and conn.recv() == "late"  # None waits until something comes
    conn.send({"x": 1})
    assert outgoing.get_nowait() == {"x": 1}
    QueueConnection.hang_up(incoming)
    assert conn.poll(0)  # as a pipe whose other end closed: readable, and reading fails
    for _ in range(2):
        with pytest.raises(EOFError):
            conn.recv()
    conn.close()
    with pytest.raises(OSError):
        conn.send("x")
    with pytest.raises(OSError):
        conn.poll(0)


# ------------------------------------------------------------------ the router


def drain(box):
    out = []
    while not box.empty():
        out.extend(em.unbatched(box.get_nowait()))
    return out


def test_router_sends_each_session_s_messages_to_the_server_that_claimed_it_last():
    engine = queue.Queue()
    router = Router(engine)
    router.put(em.Ready(7))
    router.inbound("A", em.Batch([em.Create("s", {}, {}), em.Attach("s", {})]))
    assert router.take("A", 0) == [em.Ready(7)]  # a server's first contact hears Ready
    assert [type(m) for m in drain(engine)] == [em.Create, em.Attach]
    router.put(em.Batch([em.Frame("s", b"1"), em.Text("t", {"type": "x"})]))
    router.take("B", 0)  # B polls: it is known, owns nothing
    assert router.take("A", 0) == [em.Frame("s", b"1")]  # "t" has no owner: dropped
    router.inbound("B", em.Attach("s", {}))  # resumed through B
    router.put(em.Frame("s", b"2"))
    assert router.take("A", 0) == [Taken("s")]  # A is told that its session went
    assert router.take("B", 0) == [em.Frame("s", b"2")]
    drain(engine)
    # A's stale view of the session reaches nothing: its client leaving, its expiry.
    router.inbound("A", em.Batch([em.Credit("s"), em.Detach("s"), em.Drop("s"), em.Stop()]))
    assert drain(engine) == []
    router.inbound("A", em.Export("s"))  # its hub waits for an answer
    assert router.take("A", 0) == [em.ExportFailed("s", "the session is served elsewhere")]
    assert drain(engine) == []
    router.inbound("B", em.Batch([em.Credit("s"), em.Command("s", {"type": "play"})]))
    assert [type(m) for m in drain(engine)] == [em.Credit, em.Command]
    # Heartbeats go to every server, each with the rows of its own sessions.
    router.inbound("A", em.Create("u", {}, {}))
    router.put(em.Heartbeat([("s", 10.0, None), ("u", 20.0, None), ("v", 5.0, None)]))
    assert router.take("A", 0) == [em.Heartbeat([("u", 20.0, None)])]
    assert router.take("B", 0) == [em.Heartbeat([("s", 10.0, None)])]
    # A drop by the owner ends the ownership: later messages of the sid go nowhere.
    router.inbound("B", em.Drop("s"))
    router.put(em.Frame("s", b"3"))
    assert router.take("B", 0) == [] and router.take("A", 0) == []
    # An exported session has left the engine: so has its ownership.
    router.put(em.Exported("u", b"blob"))
    router.put(em.Text("u", {}))
    assert router.take("A", 0) == [em.Exported("u", b"blob")]


def test_the_router_knows_the_token_digest_of_each_session_its_engine_holds():
    router = Router(queue.Queue())
    router.inbound("A", em.Batch([em.Create("c", {}, {}, 30, "dc"),
                                  em.Restore("r", {}, 30, "cpu", "dr"),
                                  em.Import("i", b"", "di"), em.Create("f", {}, {}, 30, "df"),
                                  em.Restore("g", {}, 30, "cpu", "dg")]))  # fmt: skip
    assert [router.digest(s) for s in "crifg"] == ["dc", "dr", "di", "df", "dg"]
    router.inbound("B", em.Attach("c", {}))  # a claim without a digest keeps it
    router.leave("B")  # (its server gone, the session still lives in the engine)
    assert router.digest("c") == "dc"
    router.inbound("A", em.Drop("r"))  # ended by its owner
    router.put(em.Batch([em.Exported("i", b""), em.Failed("f", "x"),
                         em.RestoreFailed("g", "y")]))  # fmt: skip
    assert [router.digest(s) for s in "crifg"] == ["dc", None, None, None, None]
    router.inbound("A", em.Drop("c"))  # A no longer owns it (B took it): ignored
    assert router.digest("c") == "dc" and router.digest("nope") is None


def test_take_waits_for_the_first_message_and_no_longer():
    router = Router(queue.Queue())
    router.inbound("A", em.Create("s", {}, {}))
    start = time.monotonic()
    assert router.take("A", 0.1) == []
    assert time.monotonic() - start >= 0.1
    threading.Timer(0.05, router.put, (em.Frame("s", b"x"),)).start()
    start = time.monotonic()
    assert router.take("A", 5.0) == [em.Frame("s", b"x")]
    assert time.monotonic() - start < 2.0
    # What came meanwhile comes in one take.
    router.put(em.Frame("s", b"y"))
    router.put(em.Batch([em.Frame("s", b"z"), em.Frame("s", b"w")]))
    assert router.take("A", 5.0) == [em.Frame("s", b"y"), em.Frame("s", b"z"), em.Frame("s", b"w")]


def test_a_waiting_take_ends_early_once_woken_with_its_condition_met():
    router = Router(queue.Queue())
    done = threading.Event()
    threading.Timer(0.05, lambda: (done.set(), router.wake())).start()
    start = time.monotonic()
    assert router.take("A", 30.0, until=done.is_set) == []
    assert time.monotonic() - start < 10.0
    router.wake()  # (woken with its condition unmet, a take waits on)
    threading.Timer(0.05, router.wake).start()
    threading.Timer(0.3, router.put, (em.Ready(1),)).start()
    assert router.take("B", 30.0, until=lambda: False) == [em.Ready(1)]


def test_a_server_that_leaves_or_falls_silent_has_its_sessions_paused():
    engine = queue.Queue()
    router = Router(engine, timeout=0.2)
    router.inbound("A", em.Batch([em.Create("a1", {}, {}), em.Create("a2", {}, {})]))
    router.inbound("B", em.Create("b", {}, {}))
    drain(engine)
    router.leave("A")
    assert drain(engine) == [em.Detach("a1"), em.Detach("a2")]
    router.put(em.Frame("a1", b""))
    assert router.take("B", 0) == []  # ownerless now: nobody's
    time.sleep(0.25)  # B falls silent past the timeout (the condition is the time itself)
    router.take("C", 0)  # any contact finds it
    assert drain(engine) == [em.Detach("b")]
    router.inbound("C", em.Attach("b", {}))  # a server resuming it owns it again
    router.put(em.Frame("b", b"y"))
    assert router.take("C", 0) == [em.Frame("b", b"y")]


def test_a_session_no_server_claims_back_in_time_is_ended():
    engine = queue.Queue()
    router = Router(engine, orphan_timeout=0.2)
    router.inbound("A", em.Batch([em.Create("a", {}, {}, 30, "da"), em.Create("b", {}, {}, 30,
                                                                               "db")]))  # fmt: skip
    drain(engine)
    router.leave("A")
    assert drain(engine) == [em.Detach("a"), em.Detach("b")]
    router.inbound("B", em.Attach("b", {}))  # "b" is resumed through B in time
    drain(engine)
    router.put(em.Heartbeat([]))
    assert drain(engine) == [] and router.digest("a") == "da"  # not yet
    time.sleep(0.25)  # past the timeout (the condition is the time itself)
    router.put(em.Heartbeat([]))
    assert drain(engine) == [em.Drop("a")] and router.digest("a") is None
    router.put(em.Heartbeat([]))
    assert drain(engine) == [] and router.digest("b") == "db"  # once only; "b" lives on


def test_an_engine_actor_runs_the_engine_loop_without_ray():
    """The actor class as plain Python: web servers dial its link address, and the engine
    thread answers each through the router."""
    actor = EngineActor(exit_on_end=False, host="127.0.0.1")
    host, port, key = actor.link_address()
    a, b = dial((host, port), key), dial((host, port), key)
    try:
        a.send("A")
        b.send("B")
        got = a.recv()
        ready = em.unbatched(got)[0]
        assert isinstance(ready, em.Ready) and ready.pid == os.getpid()
        assert isinstance(em.unbatched(b.recv())[0], em.Ready)  # each server hears Ready
        speed = em.Command("s", {"type": "speed", "ips": 50, "id": 3})
        a.send(
            em.Batch([em.Create("s", SMALL, {}, 30, "ds"), em.Attach("s", {"session": "s"}), speed])
        )
        answer = wait_for(lambda: em.unbatched(a.recv()), lambda m: isinstance(m, em.Text)
                          and m.event.get("type") == "speed")  # fmt: skip
        assert answer.event["ips"] == 50 and answer.event["id"] == 3
        assert actor.holds("s") == "ds" and actor.holds("t") is None
        assert sorted(actor.links) == ["A", "B"]

        # A link that ends is its server leaving: its session pauses (detached), and B,
        # still linked, goes on hearing the engine.
        a.hang_up()
        until(lambda: actor.router.digest("s") and "s" in actor.router.orphaned)
        assert "s" not in actor.router.owner and sorted(actor.links) == ["B"]
        beat = wait_for(lambda: em.unbatched(b.recv()), lambda m: isinstance(m, em.Heartbeat))
        assert beat.load == []  # B owns nothing

        # Who does not know the key gets nowhere, and the engine goes on.
        with pytest.raises(AuthenticationError):
            dial((host, port), b"not the key" * 3)
        odd = dial((host, port), key)  # the key, but no server id first: let go of
        odd.send(123)
        with pytest.raises(EOFError):
            odd.recv()
        odd.close()
        assert sorted(actor.links) == ["B"]
        b.send(em.Attach("s", {"session": "s"}))
        frame = wait_for(lambda: em.unbatched(b.recv()), lambda m: isinstance(m, em.Frame))
        assert frame.sid == "s"
    finally:
        a.close()
        b.close()
        assert actor.stop()
    until(lambda: actor.links == {})  # every link's thread ended


def until(cond, timeout=30.0):
    """Wait (polling) until `cond()` holds."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met"
        time.sleep(0.01)


def wait_for(take, pred, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for msg in take():
            if pred(msg):
                return msg
    raise AssertionError("condition not met")


# ------------------------------------------------------------------ a real cluster


@pytest.fixture(scope="module")
def cluster():
    """A Ray head of its own for the module (ray_cluster.py), ended by its process tree."""
    local = LocalCluster(num_cpus=2)
    start = time.monotonic()
    address = local.start()
    try:
        ray_engine.connect(address)
        print(f"\nRay head up and joined in {time.monotonic() - start:.1f} s")
        yield address
    finally:
        ray.shutdown()
        left = local.stop()
        assert not left, f"processes of the test cluster left running: {left}"


class FakeHub:
    """What a RayWorkerHandle asks of hub.py's Hub: `call` (run at once, here on the reader
    thread), `on_messages`, `on_worker_lost`. Frames are credited, as a client would."""

    def __init__(self):
        self.settings = None
        self.sessions = {}  # (none: a session taken elsewhere is let go of by sid)
        self.messages = queue.Queue()
        self.lost = queue.Queue()
        self.seen = []

    def call(self, fn, *args):
        fn(*args)

    def on_messages(self, worker, msgs):
        for msg in msgs:
            if isinstance(msg, em.Frame):
                worker.send(em.Credit(msg.sid))
            self.messages.put(msg)

    def on_worker_lost(self, worker, why):
        self.lost.put(why)

    def take(self):
        """The next message (kept in `seen`), or none after a short wait."""
        try:
            msg = self.messages.get(timeout=0.5)
        except queue.Empty:
            return []
        self.seen.append(msg)
        return [msg]

    def wait(self, pred, timeout=30.0):
        return wait_for(self.take, pred, timeout)


def frame_of(sid, at_least=0):
    return lambda m: (isinstance(m, em.Frame) and m.sid == sid
                      and decode(m.data).header["iteration"] >= at_least)  # fmt: skip


SECOND_SERVER = textwrap.dedent("""
    import sys, time, queue
    from ganlab.live import engine_messages as em, ray_engine
    from ganlab.wire.envelope import decode

    class Hub:
        def __init__(self):
            self.sessions = {}
            self.box = queue.Queue()
        def call(self, fn, *args):
            fn(*args)
        def on_messages(self, worker, msgs):
            for m in msgs:
                if isinstance(m, em.Frame):
                    worker.send(em.Credit(m.sid))
                self.box.put(m)
        def on_worker_lost(self, worker, why):
            print("lost", why, flush=True)

    def iteration(hub, sid, end):
        while time.monotonic() < end:
            try:
                m = hub.box.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(m, em.Frame) and m.sid == sid:
                return decode(m.data).header["iteration"]
        sys.exit("no frame")

    ray_engine.connect(sys.argv[1])
    hub = Hub()
    handle = ray_engine.RayWorkerHandle(hub, 0, server_id="B")
    handle.send(em.Attach("s", {"session": "s"}))
    first = iteration(hub, "s", time.monotonic() + 30)
    print("attached", first, flush=True)
    sys.stdin.readline()  # the first server has let go of its client meanwhile
    end = time.monotonic() + 30
    while (later := iteration(hub, "s", end)) < first + 20:
        pass
    print("playing", later, handle.pid, flush=True)
    handle.stop()
""")


def test_sessions_run_in_a_shared_actor_reached_from_two_web_servers(cluster):
    hub = FakeHub()
    a = RayWorkerHandle(hub, 0, server_id="A")
    try:
        ready = hub.wait(lambda m: isinstance(m, em.Ready), timeout=60)
        assert ready.pid != os.getpid() and a.pid == ready.pid  # another process
        a.send(em.Create("s", SMALL, {}, 30))
        a.send(em.Attach("s", {"session": "s"}))
        a.send(em.Command("s", {"type": "play"}))
        hub.wait(frame_of("s", 30))
        a.send(em.Command("s", {"type": "speed", "ips": 40, "id": 5}))
        speed = hub.wait(lambda m: isinstance(m, em.Text) and m.event["type"] == "speed")
        assert (speed.event["ips"], speed.event["id"]) == (40, 5)
        a.send(em.Command("s", {"type": "config", "set": {"d_optimizer": {"lr": 0.002}},
                                "id": 6}))  # fmt: skip
        config = hub.wait(lambda m: isinstance(m, em.Text) and m.event["type"] == "config")
        assert config.event["id"] == 6 and config.event["config"]["d_optimizer"]["lr"] == 0.002

        # A second web server (another process) finds the actor by name and resumes "s".
        with subprocess.Popen(
            [sys.executable, "-c", SECOND_SERVER, cluster], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        ) as second:  # fmt: skip
            try:
                line = second.stdout.readline()
                assert line.startswith("attached"), line
                # The first server's client leaves, and its session times out there: neither
                # reaches the session the second server now serves.
                a.send(em.Detach("s"))
                a.send(em.Drop("s"))
                mark = hub.messages.qsize() + len(hub.seen)
                second.stdin.write("go\n")
                second.stdin.flush()
                line = second.stdout.readline().split()
                assert line[:1] == ["playing"], line
                assert int(line[2]) == ready.pid  # the same actor
            finally:
                second.kill()
        while hub.take():
            pass
        after = hub.seen[mark:]
        assert not [m for m in after if getattr(m, "sid", None) == "s"]
        assert any(isinstance(m, em.Heartbeat) for m in after)  # A still hears the actor

        # A client resuming through A again: A owns the session again, and hears it.
        a.send(em.Attach("s", {"session": "s"}))
        hub.wait(frame_of("s"))
    finally:
        a.stop()
        assert not a.reader.is_alive() and not a.writer.is_alive()


def test_a_killed_actor_is_reported_lost_and_a_fresh_one_takes_its_name(cluster):
    hub = FakeHub()
    a = RayWorkerHandle(hub, 1, server_id="A")
    first = hub.wait(lambda m: isinstance(m, em.Ready), timeout=60)
    ray.kill(ray.get_actor(actor_name(1), namespace="ganlab"))
    why = hub.lost.get(timeout=30)
    assert why.startswith("died") and not a.proc.is_alive()
    a.discard()
    assert not a.reader.is_alive() and not a.writer.is_alive()
    fresh = RayWorkerHandle(hub, 1, server_id="A")
    try:
        again = hub.wait(lambda m: isinstance(m, em.Ready), timeout=60)
        assert again.pid != first.pid
    finally:
        fresh.discard()
