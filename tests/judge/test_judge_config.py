from __future__ import annotations

import pytest
from pydantic import ValidationError

from releasegate.config.judge import JudgeConfig
from releasegate.config.prices import lookup_price
from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError
from releasegate.judge.providers import PROVIDERS
from releasegate.pipeline import validate_setup


def test_unknown_provider_suggests_a_name() -> None:
    config = PipelineConfig(judge=JudgeConfig(provider="opnai", model="m"))
    with pytest.raises(ConfigError, match="judge.provider: unknown judge provider 'opnai'; did"):
        validate_setup(config, None)
    with pytest.raises(ConfigError, match="did you mean 'anthropic'"):
        PROVIDERS.check("antropic")


def test_a_mistyped_juror_provider_is_caught_before_any_model_runs() -> None:
    jury = [{"provider": "openai", "model": "a"}, {"provider": "antropic", "model": "b"}]
    config = PipelineConfig.model_validate(
        {"judge": {"provider": "openai", "model": "m", "jury": jury}}
    )
    with pytest.raises(ConfigError, match=r"judge.jury\[1\].provider: unknown judge provider"):
        validate_setup(config, None)


def test_unknown_keys_and_bad_anchors_are_rejected() -> None:
    with pytest.raises(ValidationError):
        JudgeConfig.model_validate({"provider": "openai", "model": "m", "sample_rat": 0.2})
    with pytest.raises(ValidationError, match="anchors"):
        JudgeConfig.model_validate(
            {"criteria": [{"name": "x", "description": "d", "anchors": {1: "a", 5: "b"}}]}
        )
    with pytest.raises(ValidationError, match="model is required"):
        JudgeConfig(provider="openai")


def test_config_hash_ignores_operational_settings_only() -> None:
    base = JudgeConfig(provider="openai", model="gpt-4o-mini")
    same = JudgeConfig(
        provider="openai",
        model="gpt-4o-mini",
        cache_path="/tmp/x.sqlite",
        api_key_env="OTHER_KEY",
        concurrency=2,
        budget_usd=9.0,
    )
    other = JudgeConfig(provider="openai", model="gpt-4o")
    assert base.config_hash() == same.config_hash()
    assert base.config_hash() != other.config_hash()


def test_prices_from_table_config_or_unknown() -> None:
    assert lookup_price("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert lookup_price("gpt-4o") == (2.50, 10.00)
    assert JudgeConfig(provider="openai", model="llama3:8b", base_url="http://x").prices() is None
    cfg = JudgeConfig(provider="openai", model="gpt-4o", output_price_per_mtok=1.0)
    assert cfg.prices() == (2.50, 1.0)
