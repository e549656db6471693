"""Checkpoints of live sessions on disk, so that a run survives a restarted server.

A checkpoint is a run file (engine/runfile.py) of the session's shown branch with its
history, plus the session's own settings in the file's metadata (`Session.checkpoint`,
`Session.restore`); it is loaded with the same validation as any run file. This module keeps
them in one directory, one file per session (`SID.ckpt`):

- writes are atomic: the bytes go to a temporary file in the same directory, are flushed to
  disk, and only then take the final name (`os.replace`), so after a crash the final name
  holds the previous complete checkpoint or nothing, never part of one. Temporary files a
  crash left behind are never listed, and `clean` removes those older than a minute (younger
  ones may be another process's write under way: several engine processes, and several
  servers on shared storage, write to one directory);
- disk use is bounded: after each write the oldest checkpoints (by modification time) are
  deleted until all of them fit `max_bytes`; the one just written is always kept, even alone
  over the budget;
- session ids are checked (letters, digits, `_`, `-`; 1 to 64 characters), so no id names a
  path outside the directory.

The resume token of a session is never written: only its SHA-256 digest (`token_digest`),
enough to check a resuming client's token against.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from platformdirs import user_state_dir
from pydantic import ValidationError

from ganlab.engine.runfile import MAX_HEADER, RunFileError
from ganlab.wire.commands import Speed

__all__ = ["CheckpointStore", "default_directory", "parse_meta", "token_digest"]

SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SUFFIX = ".ckpt"
# Temporary files start with a dot, which no session id does: they never look like one.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
ENV = "GANLAB_STATE_DIR"
META_KEYS = frozenset({"sid", "fps", "ips", "playing", "token_sha256"})
DIGEST = re.compile(r"[0-9a-f]{64}")
# A temporary file this old is a crashed write's leftover, not one under way.
STALE_TEMP_SECONDS = 60.0


def default_directory(state_dir: str | None = None) -> Path:
    """`sessions` in `state_dir`, else in `$GANLAB_STATE_DIR`, else in the user's state
    directory (e.g. ~/.local/state/ganlab/sessions on Linux)."""
    state = state_dir or os.environ.get(ENV) or user_state_dir("ganlab")
    return Path(state) / "sessions"


def check_sid(sid: str) -> str:
    if not isinstance(sid, str) or not SID.fullmatch(sid):
        raise ValueError(f"bad session id {sid!r:.80}: 1 to 64 letters, digits, '_' or '-'")
    return sid


def token_digest(token: str) -> str:
    """What a checkpoint keeps of a resume token: its SHA-256, as hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_meta(meta: dict[str, Any] | None) -> dict[str, Any]:
    """A checkpoint's session settings, checked: the same ranges as the `speed` command's."""
    if meta is None:
        raise RunFileError("not a session checkpoint: the run file holds no session settings")
    if set(meta) != META_KEYS:
        raise RunFileError(f"checkpoint session settings are damaged: they must be exactly "
                           f"{', '.join(sorted(META_KEYS))}")  # fmt: skip
    if not isinstance(meta["sid"], str) or not SID.fullmatch(meta["sid"]):
        raise RunFileError("checkpoint session settings are damaged: bad session id")
    if not isinstance(meta["playing"], bool):
        raise RunFileError("checkpoint session settings are damaged: playing must be true/false")
    digest = meta["token_sha256"]
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise RunFileError("checkpoint session settings are damaged: token_sha256 must be 64 "
                           "lowercase hex digits")  # fmt: skip
    try:
        Speed.model_validate({"type": "speed", "ips": meta["ips"], "fps": meta["fps"]})
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise RunFileError(f"checkpoint session settings are damaged: {where} is out of "
                           "range (fps 1..60, ips 1..100000 or null)") from None  # fmt: skip
    return meta


class CheckpointStore:
    """One directory of session checkpoints within a disk budget of `max_bytes`."""

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)

    def clean(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Remove the temporary files that crashed writes left behind (those older than
        `older_than` seconds); returns how many."""
        removed = 0
        for leftover in self._temps():
            try:
                if time.time() - leftover.stat().st_mtime >= older_than:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # its writer finished meanwhile
        return removed

    def _path(self, sid: str) -> Path:
        return self.directory / f"{check_sid(sid)}{SUFFIX}"

    def _temps(self) -> list[Path]:
        return [p for p in self.directory.iterdir()
                if p.name.startswith(TEMP_PREFIX) and p.name.endswith(TEMP_SUFFIX)]  # fmt: skip

    def _files(self) -> list[tuple[int, str, int]]:
        """(modification time in ns, sid, bytes) of each checkpoint; one deleted meanwhile
        (another writer's budget) is left out."""
        found = []
        for p in self.directory.iterdir():
            sid = p.name[: -len(SUFFIX)]
            if p.name.endswith(SUFFIX) and SID.fullmatch(sid):
                try:
                    st = p.stat()
                except FileNotFoundError:
                    continue
                found.append((st.st_mtime_ns, sid, st.st_size))
        return found

    def save(self, sid: str, data: bytes) -> None:
        """Write `sid`'s checkpoint atomically, then keep the store within its budget."""
        final = self._path(sid)
        fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{sid}.", suffix=TEMP_SUFFIX,
                                    dir=self.directory)  # fmt: skip
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, final)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._sync_directory()  # the rename itself survives a power loss
        self._enforce_budget(sid)

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _enforce_budget(self, keep: str) -> None:
        files = sorted(self._files())  # oldest first; ties in name order
        total = sum(size for _, _, size in files)
        for _, sid, size in files:
            if total <= self.max_bytes:
                break
            if sid == keep:
                continue
            self.delete(sid)
            total -= size

    def load(self, sid: str) -> bytes | None:
        try:
            return self._path(sid).read_bytes()
        except FileNotFoundError:
            return None

    def header(self, sid: str) -> bytes | None:
        """The start of `sid`'s checkpoint up to the end of its run file header (enough for
        `runfile.session_meta`), without reading the tensors; None if there is none."""
        try:
            with self._path(sid).open("rb") as f:
                head = f.read(8)
                if len(head) < 8:
                    return head
                (size,) = struct.unpack("<Q", head)
                return head + f.read(min(size, MAX_HEADER))
        except FileNotFoundError:
            return None

    def sids(self) -> list[str]:
        """The sessions with a checkpoint, oldest first."""
        return [sid for _, sid, _ in sorted(self._files())]

    def delete(self, sid: str) -> None:
        self._path(sid).unlink(missing_ok=True)

    def total_bytes(self) -> int:
        return sum(size for _, _, size in self._files())
