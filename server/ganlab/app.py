"""The FastAPI app: static front end, health check, and what the front end builds controls from."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ganlab import __version__
from ganlab.config import json_schema
from ganlab.distributions import DISTRIBUTIONS
from ganlab.losses import OBJECTIVES
from ganlab.presets import PRESETS
from ganlab.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="ganlab", version=__version__)
    app.state.settings = settings

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/presets")
    def presets() -> list[dict[str, Any]]:
        return [
            {"name": p.name, "description": p.description, "steps": p.steps,
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
    def losses() -> list[dict[str, str]]:
        return [{"name": o.name, "title": o.title, "output": o.output} for o in OBJECTIVES.values()]

    @app.get("/api/schema")
    def schema() -> dict[str, Any]:
        return json_schema()

    static = files("ganlab") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="static")
    return app
