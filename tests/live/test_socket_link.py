"""Socket links: a pipe's end over TCP, both sides proving the key, ended from any thread."""

import socket
import threading
import time
from multiprocessing import AuthenticationError

import pytest

from ganlab.live.socket_link import Listener, dial

KEY = b"k" * 32


@pytest.fixture
def listener():
    lst = Listener("127.0.0.1", KEY)
    yield lst
    lst.close()


def accept_in_thread(lst, **admit):
    """Accept one link on a thread; its result (the link, or the exception) in a dict."""
    out = {}

    def run():
        try:
            out["link"] = lst.admit(lst.accept(), **admit)
        except Exception as exc:
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_link_carries_objects_both_ways_in_order(listener):
    thread, out = accept_in_thread(listener)
    near = dial(listener.address, KEY)
    thread.join(30)
    far = out["link"]
    big = bytes(range(256)) * 20_000  # 5 MB: more than any socket buffer
    sender = threading.Thread(target=lambda: [near.send(m) for m in ("a", big, {"n": 3})])
    sender.start()
    assert [far.recv(), far.recv(), far.recv()] == ["a", big, {"n": 3}]
    sender.join(30)
    far.send(("back", 1))
    assert near.recv() == ("back", 1)
    near.close()
    far.close()


def test_a_wrong_key_is_refused_on_both_sides(listener):
    thread, out = accept_in_thread(listener)
    with pytest.raises(AuthenticationError):
        dial(listener.address, b"x" * 32)
    thread.join(30)
    assert isinstance(out["error"], AuthenticationError)


def test_a_caller_that_never_answers_is_dropped_after_the_handshake_time(listener):
    thread, out = accept_in_thread(listener, timeout=0.3)
    with socket.create_connection(listener.address):
        thread.join(30)
    assert isinstance(out["error"], OSError) and not thread.is_alive()


def test_hang_up_ends_a_read_waiting_on_another_thread_and_the_other_side(listener):
    thread, out = accept_in_thread(listener)
    near = dial(listener.address, KEY)
    thread.join(30)
    far = out["link"]
    ended = {}

    def read():
        try:
            near.recv()
        except Exception as exc:
            ended["near"] = exc

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)  # (let it wait in recv; the test holds either way)
    near.hang_up()
    reader.join(30)
    assert isinstance(ended["near"], EOFError | OSError) and not reader.is_alive()
    with pytest.raises(EOFError):
        far.recv()
    near.close()
    far.close()


def test_finish_lets_the_other_side_read_all_then_close(listener):
    thread, out = accept_in_thread(listener)
    near = dial(listener.address, KEY)
    thread.join(30)
    far = out["link"]
    for i in range(100):
        near.send(i)
    near.finish()
    got = []
    with pytest.raises(EOFError):
        while True:
            got.append(far.recv())
    assert got == list(range(100))
    far.send("late")  # the finishing side still reads
    assert near.recv() == "late"
    far.close()
    with pytest.raises(EOFError):
        near.recv()
    near.close()


def test_a_closed_listener_ends_a_waiting_accept():
    lst = Listener("127.0.0.1", KEY)
    errors = []

    def run():
        try:
            lst.accept()
        except OSError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.1)
    lst.close()
    thread.join(30)
    assert errors and not thread.is_alive()


def test_both_ends_ask_tcp_to_notice_a_vanished_machine(listener):
    thread, out = accept_in_thread(listener)
    near = dial(listener.address, KEY)
    thread.join(30)
    for link in (near, out["link"]):
        assert link.sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        idle = link.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
        count = link.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
        interval = link.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL)
        assert idle + count * interval <= 30  # gone within half a minute
        link.close()
