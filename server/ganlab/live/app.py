"""The FastAPI app: static front end, health check, what the front end builds its controls
from, and the live sessions' websocket (websocket.py) backed by the hub of engine workers. Requests
for host names not served are refused, and resume tokens kept out of the log, however the app
is run (`ganlab serve` runs it with connection limits: serving.py)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from fastapi.staticfiles import StaticFiles

from ganlab import __version__
from ganlab.engine import dirac
from ganlab.engine.config import ConfigError, json_schema
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

    dirac_turn = threading.Lock()

    @app.post("/api/dirac")
    def dirac_game(body: Annotated[Any, Body()] = None) -> dict[str, Any]:
        """The Dirac-GAN under the posted config (engine/dirac.py). A sync route: its work,
        a few seconds at most for the longest paths, runs in the thread pool, off the event
        loop."""
        try:
            req, config = dirac.parse_request(body)
        except ConfigError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        with dirac_turn:  # one at a time: many requests cannot take every core
            return dirac.describe(config, req.steps, req.start)

    static = files("ganlab") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="static")
    return app
