"""Server settings from flags or GANLAB_* environment variables (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ganlab.live.security import host_pattern


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GANLAB_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where sessions train.")
    max_sessions: int = Field(64, ge=1, le=10_000, description="Live sessions at most.")
    session_timeout: int = Field(
        600, ge=1, le=7 * 86_400, description="Seconds a session without a client is kept."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra origins allowed to open the websocket, comma separated ('*' = any);"
        " the page's own origin and localhost always are.",
    )
    fps: int = Field(30, ge=1, le=60, description="Default frames per second of a session.")
    workers: int | None = Field(
        None, ge=0, le=256, description="Engine processes (default: one per core; 0 = in-process)."
    )
    max_message_bytes: int = Field(
        1 << 20, ge=1024, le=64 << 20, description="Largest text message a client may send."
    )
    max_run_bytes: int = Field(
        64 << 20, ge=1024, le=256 << 20, description="Largest run file a client may load."
    )
    history_bytes: int = Field(
        32 << 20, ge=0, le=16 << 30,
        description="Bytes of snapshots one session's history keeps for going back in time,"
        " split between its branches; older history is kept sparser to stay within it.",
    )  # fmt: skip
    max_iteration_gflop: float = Field(
        12.0, gt=0, le=1000, description="Work one training iteration of a session may take."
    )
    max_picture_gflop: float = Field(
        24.0, gt=0, le=1000, description="Work one picture (frame) of a session may take."
    )
    commands_per_second: float = Field(
        50.0, gt=0, le=10_000, description="Commands a connection may send per second."
    )
    max_outgoing_bytes: int = Field(
        8 << 20, ge=1 << 16, le=1 << 30,
        description="Answers waiting to be sent to one connection, in bytes, beyond which its"
        " commands are refused as busy (ping and pause excepted).",
    )  # fmt: skip
    engine_hang_seconds: float = Field(
        20.0, ge=1.0, le=3600,
        description="Seconds an engine process may stay silent (no heartbeat) before it counts"
        " as hung and is replaced; its sessions are lost.",
    )  # fmt: skip
    state_dir: str | None = Field(
        None,
        description="Directory where live sessions are checkpointed, so that they survive a"
        " restart (default: the user's state directory, e.g. ~/.local/state/ganlab).",
    )
    checkpoint_seconds: float = Field(
        10.0, ge=1.0, le=3600,
        description="Seconds between checkpoints of a session that changes: a crash loses at"
        " most this much of its training.",
    )  # fmt: skip
    checkpoint_history_bytes: int = Field(
        2 << 20, ge=0, le=1 << 30,
        description="Bytes of history snapshots one session's checkpoint keeps (thinned to"
        " fit, the whole history still reachable); checkpoints cost time in proportion.",
    )  # fmt: skip
    checkpoint_bytes: int = Field(
        1 << 30, ge=1 << 20, le=1 << 40,
        description="Disk space all checkpoints may take; beyond it the oldest are deleted.",
    )  # fmt: skip
    ray_address: str | None = Field(
        None,
        description="The Ray cluster whose actors run the engines instead of local processes:"
        " its head's HOST:PORT, or 'auto' for the cluster started on this machine with"
        " `ray start --head` (needs the extra ganlab[ray]; see docs/deployment.md).",
    )
    # The HTTP layer (live/serving.py): who may connect, how many at once, for how long.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra host names clients may use to reach the server, comma separated"
        " ('*.example.org': its subdomains, '*' = any); localhost names and the listen address"
        " always may.",
    )
    max_connections: int = Field(
        1000, ge=1, le=1_000_000, description="Open connections at most, from all clients."
    )
    max_connections_per_address: int = Field(
        64, ge=1, le=1_000_000, description="Open connections at most from one client address."
    )
    request_timeout: float = Field(
        10.0, gt=0, le=3600, description="Seconds a client has to send a whole request."
    )
    keep_alive_timeout: int = Field(
        5, ge=1, le=3600, description="Seconds an idle HTTP connection is kept between requests."
    )
    max_request_head_bytes: int = Field(
        16384, ge=1024, le=1 << 20, description="Largest request line plus headers a client sends."
    )
    ws_ping_interval: float = Field(
        20.0, gt=0, le=3600, description="Seconds between the server's pings on a websocket."
    )
    ws_ping_timeout: float = Field(
        20.0, gt=0, le=3600, description="Seconds a websocket client has to answer a ping."
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("ray_address")
    @classmethod
    def _check_ray_address(cls, value: str | None) -> str | None:
        value = value.strip() if value is not None else None
        if not value:
            return None  # (an empty variable: no Ray)
        host, _, port = value.rpartition(":")
        if value != "auto" and not (host and port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"{value!r} is not a Ray address: give the head's HOST:PORT (for"
                             " example 10.0.0.5:6379) or 'auto'")  # fmt: skip
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return [h for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        return [host_pattern(h) for h in value]  # ValueError: pydantic names the field
