"""The FastAPI app: static front end, health check, what the front end builds its controls
from, and the live sessions' websocket (websocket.py) backed by the hub of engine workers. Requests
for host names not served are refused, and resume tokens kept out of the log, however the app
is run (`ganlab serve` runs it with connection limits: serving.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ganlab import __version__
from ganlab.engine.config import json_schema
from ganlab.engine.distributions import DISTRIBUTIONS
from ganlab.engine.losses import OBJECTIVES
from ganlab.engine.presets import PRESETS
from ganlab.engine.recipes import recipe_for
from ganlab.live.hub import Hub
from ganlab.live.security import HostCheck, install_log_redaction, trusted_hosts
from ganlab.live.settings import Settings
from ganlab.live.websocket import router as ws_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = Hub(settings)
        app.state.hub = hub
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    install_log_redaction()
    app = FastAPI(title="ganlab", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.allowed_hosts = trusted_hosts(settings.host, settings.allowed_hosts)
    app.add_middleware(HostCheck, hosts=app.state.allowed_hosts)
    app.include_router(ws_router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/presets")
    def presets() -> list[dict[str, Any]]:
        return [
            {"name": p.name, "title": p.title, "description": p.description, "steps": p.steps,
             "config": p.experiment().model_dump()}
            for p in PRESETS.values()
        ]  # fmt: skip

    @app.get("/api/distributions")
    def distributions() -> list[dict[str, Any]]:
        return [
            {"name": d.name, "title": d.title, "description": d.description, "group": d.group,
             "box": d.box.as_list(),
             "modes": [{"mean": m.mean, "sigma": m.sigma} for m in d.modes]}
            for d in DISTRIBUTIONS.values()
        ]  # fmt: skip

    @app.get("/api/losses")
    def losses() -> list[dict[str, Any]]:
        return [
            {"name": o.name, "title": o.title, "output": o.output, "recipe": recipe_for(o.name)}
            for o in OBJECTIVES.values()
        ]

    @app.get("/api/schema")
    def schema() -> dict[str, Any]:
        return json_schema()

    static = files("ganlab") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="static")
    return app
