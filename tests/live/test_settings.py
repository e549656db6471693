import pytest
from pydantic import ValidationError

from ganlab.live.settings import Settings


def test_defaults():
    s = Settings()
    assert (s.host, s.port, s.device, s.session_timeout, s.max_message_bytes) == (
        "127.0.0.1", 8000, "auto", 600, 1 << 20)  # fmt: skip


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("GANLAB_ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("GANLAB_MAX_SESSIONS", "3")
    monkeypatch.setenv("GANLAB_WORKERS", "0")
    s = Settings()
    assert s.allowed_origins == ["https://a.example", "https://b.example"]
    assert s.max_sessions == 3 and s.workers == 0


def test_out_of_range_names_the_field(monkeypatch):
    monkeypatch.setenv("GANLAB_FPS", "500")
    with pytest.raises(ValidationError, match="fps"):
        Settings()
