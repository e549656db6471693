"""An authenticated TCP connection that carries pickled objects as a pipe's end does (its
`conn` is a multiprocessing Connection), and that one thread can end while another waits in
recv.

The Ray engine's data channel (ray_engine.py): an engine actor listens, each web server dials
it, and frames and commands then flow as they do over a local engine process's pipe (one
pickled message a send, no Ray call per message). Both ends prove they know a secret key (the
challenge of multiprocessing.connection, an HMAC; the key travels through Ray), so that only a
web server of the cluster can talk to an engine. Nothing is encrypted: a Ray cluster belongs on
a private network.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

# Seconds for the two sides to prove they know the key: a connection that does not is dropped.
HANDSHAKE_SECONDS = 10.0
# Idle seconds before TCP asks whether the other side still lives, and between asks; a side
# that answers none of KEEPALIVE_COUNT asks is gone (a machine that vanished sends no close).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3


class Link:
    """One end of a link: `conn` is the Connection (owned by one reader and one writer
    thread), `hang_up` ends it from any thread (the reader's recv then raises EOFError)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        _keep_alive(sock)
        # The Connection gets a file descriptor of its own onto the same socket: shutting the
        # socket down ends both, and each closes its own descriptor.
        self.conn = Connection(os.dup(sock.fileno()))

    def hang_up(self) -> None:
        """End the link: the other side's reads and writes fail, and so do ours."""
        with contextlib.suppress(OSError):  # (already ended, by the other side)
            self.sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        """Say that nothing more comes (what was sent is still read; the other side's recv
        then raises EOFError), and go on reading until the other side closes."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Hang up and free the descriptors (once no thread uses the Connection)."""
        self.hang_up()
        self.conn.close()
        self.sock.close()

    def send(self, obj: Any) -> None:
        self.conn.send(obj)

    def recv(self) -> Any:
        return self.conn.recv()


def dial(address: tuple[str, int], authkey: bytes,
         timeout: float = HANDSHAKE_SECONDS) -> Link:  # fmt: skip
    """Connect to a `Listener` at `address` and prove that both sides know `authkey`
    (multiprocessing.AuthenticationError if the other side does not)."""
    sock = socket.create_connection(address, timeout=timeout)
    return _handshake(sock, authkey, timeout, dialled=True)


class Listener:
    """A listening socket on `host` (port chosen by the system: `address`); `accept` gives the
    next link whose other side knows `authkey`."""

    def __init__(self, host: str, authkey: bytes) -> None:
        self.authkey = authkey
        self.sock = socket.create_server((host, 0))
        self.address: tuple[str, int] = self.sock.getsockname()[:2]

    def accept(self) -> socket.socket:
        """The next incoming socket, not yet checked (`admit` does that, best on a thread of
        its own: a caller that never answers must not hold up the others). OSError once
        closed."""
        sock, _ = self.sock.accept()
        return sock

    def admit(self, sock: socket.socket, timeout: float = HANDSHAKE_SECONDS) -> Link:
        """The link over `sock` once its other side proved it knows the key."""
        return _handshake(sock, self.authkey, timeout, dialled=False)

    def close(self) -> None:
        """Stop listening (an `accept` waiting raises OSError)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _handshake(sock: socket.socket, authkey: bytes, timeout: float, dialled: bool) -> Link:
    # Blocking, with the kernel's time limit on each read and write: the Connection reads its
    # own descriptor of the socket, which Python's socket timeouts (non-blocking mode) would
    # make fail at once.
    sock.settimeout(None)
    _time_limit(sock, timeout)
    link = Link(sock)
    try:
        if dialled:
            answer_challenge(link.conn, authkey)
            deliver_challenge(link.conn, authkey)
        else:
            deliver_challenge(link.conn, authkey)
            answer_challenge(link.conn, authkey)
    except BaseException:
        link.close()
        raise
    _time_limit(sock, 0.0)  # (none from now on: a link waits for the next message for ever)
    return link


def _time_limit(sock: socket.socket, seconds: float) -> None:
    limit = struct.pack("ll", int(seconds), int(seconds % 1 * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)


def _keep_alive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for name, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE), ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
                        ("TCP_KEEPCNT", KEEPALIVE_COUNT)):  # fmt: skip
        if hasattr(socket, name):  # (Linux; other systems keep their defaults)
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
