"""The web server's end of an engine worker's connection, over a pipe to an engine loop in a
thread (the simplest real worker), and what happens when it cannot connect or the other end
goes."""

import multiprocessing
import queue
import threading

from ganlab.live import engine_messages as em
from ganlab.live.engine_link import EngineLink, with_queued
from ganlab.live.engine_process import serve


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


class Hub:
    """What a link asks of hub.py's Hub, with what it was told kept in queues."""

    def __init__(self):
        self.messages = queue.Queue()
        self.lost = queue.Queue()

    def call(self, fn, *args):
        fn(*args)

    def on_messages(self, link, msgs):
        for msg in msgs:
            self.messages.put(msg)

    def on_worker_lost(self, link, why):
        self.lost.put(why)


class PipeLink(EngineLink):
    """A link made on the reader thread (as a socket's is), to an engine loop in a thread."""

    def __init__(self, hub, fail=None):
        super().__init__(hub, 0)
        self.fail = fail
        self.engine = None
        self.start_threads()

    def connect(self):
        if self.fail is not None:
            raise self.fail
        self.conn, child = multiprocessing.Pipe()
        self.engine = threading.Thread(target=serve, args=(child, 0, 0), daemon=True)
        self.engine.start()


def next_of(q, kind):
    while not isinstance(msg := q.get(timeout=30), kind):
        pass
    return msg


def test_a_link_made_on_its_reader_thread_carries_both_ways_and_reports_its_end():
    hub = Hub()
    link = PipeLink(hub)
    assert isinstance(next_of(hub.messages, em.Ready), em.Ready)
    before = link.heard_at
    link.send(em.Create("s", {"generator": {"neurons": 8}}, {}))
    link.send(em.Command("s", {"type": "speed", "ips": 40, "id": 2}))  # (sent together)
    answer = next_of(hub.messages, em.Text)
    assert answer.event["type"] == "speed" and answer.event["id"] == 2
    assert link.heard_at > before
    link.send(em.Stop())  # the engine ends: its end of the pipe closes
    assert hub.lost.get(timeout=30) == PipeLink.closed_why
    link.reader.join(30)
    link.send(None)
    link.writer.join(30)
    assert not link.reader.is_alive() and not link.writer.is_alive()


def test_a_link_that_cannot_connect_is_reported_once_and_its_writer_ends():
    hub = Hub()
    link = PipeLink(hub, fail=ConnectionRefusedError("nobody listens"))
    why = hub.lost.get(timeout=30)
    assert why == "could not be reached (ConnectionRefusedError: nobody listens)"
    link.writer.join(30)
    assert not link.writer.is_alive() and hub.lost.empty()


def test_a_stopped_link_reports_nothing():
    hub = Hub()
    link = PipeLink(hub)
    next_of(hub.messages, em.Ready)
    link.stopped = True
    link.send(em.Stop())
    link.reader.join(30)
    assert not link.reader.is_alive() and hub.lost.empty()
