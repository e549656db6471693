"""Server settings from flags or GANLAB_* environment variables (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    max_iteration_gflop: float = Field(
        12.0, gt=0, le=1000, description="Work one training iteration of a session may take."
    )
    max_picture_gflop: float = Field(
        24.0, gt=0, le=1000, description="Work one picture (frame) of a session may take."
    )
    commands_per_second: float = Field(
        50.0, gt=0, le=10_000, description="Commands a connection may send per second."
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value
