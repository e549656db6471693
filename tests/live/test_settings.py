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


def test_http_layer_defaults():
    s = Settings()
    assert s.allowed_hosts == []
    assert (s.max_connections, s.max_connections_per_address) == (1000, 64)
    assert (s.request_timeout, s.keep_alive_timeout, s.max_request_head_bytes) == (10, 5, 16384)
    assert (s.ws_ping_interval, s.ws_ping_timeout) == (20, 20)


def test_allowed_hosts_from_the_environment(monkeypatch):
    monkeypatch.setenv("GANLAB_ALLOWED_HOSTS", " Lab.Example , *.lab.example,::1,, 10.0.0.2")
    monkeypatch.setenv("GANLAB_REQUEST_TIMEOUT", "0.5")
    monkeypatch.setenv("GANLAB_MAX_CONNECTIONS_PER_ADDRESS", "8")
    s = Settings()
    assert s.allowed_hosts == ["lab.example", "*.lab.example", "[::1]", "10.0.0.2"]
    assert (s.request_timeout, s.max_connections_per_address) == (0.5, 8)


@pytest.mark.parametrize("value", ["http://lab.example", "lab.example:8000", "a.*.example"])
def test_a_bad_allowed_host_names_the_field_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv("GANLAB_ALLOWED_HOSTS", f"lab.example,{value}")
    with pytest.raises(ValidationError, match=r"allowed_hosts(.|\n)*give a name or address"):
        Settings()


@pytest.mark.parametrize(
    ("field", "value"),
    [("request_timeout", 0), ("keep_alive_timeout", 0), ("max_connections", 0),
     ("max_connections_per_address", 0), ("max_request_head_bytes", 100),
     ("ws_ping_interval", 0), ("ws_ping_timeout", -1)],
)  # fmt: skip
def test_http_layer_limits_are_checked(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


@pytest.mark.parametrize("value", ["-1", "lots", str(32 << 30)])
def test_a_bad_history_budget_names_the_setting(monkeypatch, value):
    monkeypatch.setenv("GANLAB_HISTORY_BYTES", value)
    with pytest.raises(ValidationError, match="history_bytes"):
        Settings()
    monkeypatch.setenv("GANLAB_HISTORY_BYTES", "1048576")
    assert Settings().history_bytes == 1 << 20
