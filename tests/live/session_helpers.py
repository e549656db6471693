"""What the session tests share: a small experiment, a session attached to a client, the
events of a reply, and playing iterations as an engine process does."""

from ganlab.live.session import Session

SMALL = {"generator": {"neurons": 8}, "discriminator": {"neurons": 8},
         "view": {"grid": 16, "fakes": 24, "reals": 24}, "device": "cpu"}  # fmt: skip


def make(**over):
    """A session of SMALL (with `over`) with a client attached."""
    s = Session("s", {**SMALL, **over})
    s.attach({"session": "s", "token": "t"})
    return s


def events(outs, kind="text"):
    """The data of a reply's items of one kind (text events, or binary messages)."""
    return [o.data for o in outs if o.kind == kind]


def play(s, n):
    """`n` iterations as an engine process's slice makes them (recorded in the history)."""
    for _ in range(n):
        s.trainer.step()
        s.after_step(1)
