"""Client commands of the live-session protocol (docs/protocol.md), validated with pydantic.

`parse_command` turns one text message into a plain dict the engine side can trust as to
shape and types; whether a config change is allowed is the engine's decision (`ConfigError`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ganlab.engine import bounded_json
from ganlab.engine.bounded_json import cut

PROTOCOL = 1
MAX_ID = 2**53
MAX_IMPORT_CHARS = 4 * 1024 * 1024
# Deeper JSON than any command needs (strokes are 3 levels inside `set`) is refused early.
MAX_DEPTH = 32
# Longer integers are refused while parsing (10**300 still reaches the field's own range check).
MAX_INT_DIGITS = 1000


class ProtocolError(ValueError):
    """A message the server refuses; `code` is one of docs/protocol.md's error codes."""

    def __init__(self, code: str, message: str, field: str | None = None, id: int | None = None):
        super().__init__(message)
        self.code, self.message, self.field, self.id = code, message, field, id

    def event(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message,
                "field": self.field, "id": self.id}  # fmt: skip


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: int | None = Field(None, ge=0, le=MAX_ID)


class Play(_Command):
    type: Literal["play"]


class Pause(_Command):
    type: Literal["pause"]


class Step(_Command):
    type: Literal["step"]
    phase: Literal["d", "g", "both"] = "both"
    sub: bool = False

    @model_validator(mode="after")
    def _sub_needs_network(self) -> Step:
        if self.sub and self.phase == "both":
            raise ValueError("a walkthrough phase (sub: true) needs phase 'd' or 'g'")
        return self


class Reset(_Command):
    type: Literal["reset"]
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class Config(_Command):
    type: Literal["config"]
    set: dict[str, Any]


class Import(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    format: Literal["csv", "json"]
    text: str = Field(max_length=MAX_IMPORT_CHARS)


class Data(_Command):
    model_config = ConfigDict(populate_by_name=True)
    type: Literal["data"]
    set: dict[str, Any] | None = None
    import_: Import | None = Field(None, alias="import")

    @model_validator(mode="after")
    def _one_source(self) -> Data:
        if (self.set is None) == (self.import_ is None):
            raise ValueError("give exactly one of 'set' (a data config) or 'import'")
        return self


class Speed(_Command):
    type: Literal["speed"]
    ips: float | None = Field(None, ge=1, le=100_000)
    fps: int | None = Field(None, ge=1, le=60)


class Save(_Command):
    type: Literal["save"]


class Ping(_Command):
    type: Literal["ping"]


# Time travel (docs/protocol.md, "History"): branch ids and iterations are checked against
# the run's history by the session.
_BRANCH_ID = Field(None, ge=0, le=1000)
_ITERATION = Field(ge=0, le=MAX_ID)


class Seek(_Command):
    type: Literal["seek"]
    iteration: int = _ITERATION
    branch: int | None = _BRANCH_ID


class Live(_Command):
    type: Literal["live"]
    branch: int | None = _BRANCH_ID


class Branch(_Command):
    type: Literal["branch"]
    iteration: int | None = Field(None, ge=0, le=MAX_ID)
    set: dict[str, Any] | None = None


Command = Annotated[
    Play | Pause | Step | Reset | Config | Data | Speed | Save | Ping | Seek | Live | Branch,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Command)
TYPES = ("play", "pause", "step", "reset", "config", "data", "speed", "save", "ping", "load",
         "seek", "live", "branch")  # fmt: skip


def parse_json(text: str) -> Any:
    try:
        return bounded_json.loads(text, MAX_INT_DIGITS)
    except bounded_json.JsonLimit as exc:
        raise ProtocolError("bad_json", f"message refused: {exc}") from None
    except ValueError as exc:  # json.JSONDecodeError: its message names line and column
        raise ProtocolError("bad_json", f"message is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("bad_json", "message is not valid JSON: nested too deeply") from None


def _message_id(raw: dict[str, Any]) -> int | None:
    value = raw.get("id")
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID
    return value if ok else None


def parse_command(text: str) -> dict[str, Any]:
    """A validated command as a dict (`import_` renamed `import`, fields left out absent)."""
    raw = parse_json(text)
    if not isinstance(raw, dict):
        raise ProtocolError("bad_message", "a command must be a JSON object with a 'type'")
    kind, mid = raw.get("type"), _message_id(raw)
    if bounded_json.depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise ProtocolError("bad_message", f"message nested deeper than {MAX_DEPTH} levels",
                            None, mid)  # fmt: skip
    if not isinstance(kind, str) or kind not in TYPES:
        raise ProtocolError("unknown_command", f"unknown command type {cut(repr(kind))}; "
                            f"allowed: {', '.join(TYPES)}", "type", mid)  # fmt: skip
    if kind == "load":
        raise ProtocolError("bad_message", "send a run file as a binary 'run' message", "type", mid)
    try:
        model = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"][1:]]  # drop the union tag
        field = cut(".".join(loc)) or None  # an unknown field's name is the client's text
        raise ProtocolError("bad_message", f"{field or kind}: {err['msg']}", field, mid) from None
    out = model.model_dump(exclude_unset=True, by_alias=True)
    out["type"] = kind
    return out
