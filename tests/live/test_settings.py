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


def test_checkpoint_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLAB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("GANLAB_CHECKPOINT_SECONDS", "2.5")
    monkeypatch.setenv("GANLAB_CHECKPOINT_BYTES", str(64 << 20))
    s = Settings()
    assert s.state_dir == str(tmp_path) and s.checkpoint_seconds == 2.5
    assert s.checkpoint_bytes == 64 << 20 and s.checkpoint_history_bytes == 2 << 20


@pytest.mark.parametrize(("field", "value"), [
    ("checkpoint_seconds", 0.5), ("checkpoint_seconds", 7200), ("checkpoint_bytes", 1000),
    ("checkpoint_history_bytes", -1)])  # fmt: skip
def test_bad_checkpoint_settings_name_the_setting(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


@pytest.mark.parametrize(
    ("given", "kept"),
    [(" auto ", "auto"), ("10.0.0.5:6379", "10.0.0.5:6379"), ("ray-head:6379", "ray-head:6379"),
     ("", None)],
)  # fmt: skip
def test_a_ray_address_is_auto_or_host_and_port(monkeypatch, given, kept):
    assert Settings().ray_address is None  # no Ray unless asked
    monkeypatch.setenv("GANLAB_RAY_ADDRESS", given)
    assert Settings().ray_address == kept


@pytest.mark.parametrize("value", ["10.0.0.5", "head:0", "head:65536", ":6379", "head:port"])
def test_a_bad_ray_address_names_the_setting_and_the_forms_allowed(value):
    with pytest.raises(ValidationError, match=r"ray_address(.|\n)*HOST:PORT(.|\n)*'auto'"):
        Settings(ray_address=value)
