"""Backend detection asks every registered backend; a plugin backend is valid config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.backends.registry import BACKENDS, check_backend_name, detect_backend, load_backend
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError


@pytest.fixture
def echo_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS._targets, "echo", "plugin_backend:EchoBackend")


def test_each_built_in_form_is_claimed_by_exactly_one_backend(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "out.jsonl").write_text("", encoding="utf-8")
    assert detect_backend(str(tmp_path / "model")) == "hf"
    assert detect_backend(str(tmp_path / "out.jsonl")) == "replay"
    assert detect_backend("http://127.0.0.1:9/v1") == "openai"


def test_detecting_a_local_model_asks_the_endpoint_backend_without_importing_httpx(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    code = (
        "import sys\n"
        "from releasegate.backends.registry import detect_backend\n"
        f"name = detect_backend({str(tmp_path)!r})\n"
        "print(name, 'releasegate.backends.openai_endpoint' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The endpoint backend was asked (its module is loaded), and its client was not.
    assert out.stdout.split() == ["hf", "True", "False"]


def test_unclaimed_references_say_what_they_look_like(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="must contain config.json"):
        detect_backend(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="no such file or directory"):
        detect_backend(str(tmp_path / "nothing"))


@pytest.mark.usefixtures("echo_plugin")
def test_a_plugin_backend_claims_its_references_and_is_valid_config() -> None:
    assert detect_backend("echo://any") == "echo"
    check_backend_name("echo")
    backend = load_backend("echo://any", ModelSettings(backend="echo"))
    assert backend.info().backend == "echo"


def test_an_unknown_backend_name_gets_a_did_you_mean() -> None:
    with pytest.raises(
        ConfigError, match="model.backend: unknown backend 'hff'; did you mean 'hf'"
    ):
        check_backend_name("hff")
