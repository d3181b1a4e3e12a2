"""Publishing as one transaction, redaction, and disposable caches."""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import sqlite3
import sys
from pathlib import Path

import pydantic_core
import pytest

from helpers import SEED_CONFIG
from releasegate import redact
from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.config import parse_config
from releasegate.errors import OutputError
from releasegate.judge.cache import CachedReply, JudgeCache
from releasegate.pipeline import EvaluationPipeline
from releasegate.publish import preflight, publish_run
from releasegate.records.run import PipelineResult
from releasegate.redact import known_secrets, may_redact_json, redact_data, redact_text
from releasegate.store.generation_cache import GenerationCache, generation_key

SECRET = "sk-Qw3rTy-publish-9876543210"
OLD = '{"accuracy": 0.5}\n'


@pytest.fixture
def deploy(tmp_path: Path, bench_file: Path, good_replay: Path) -> PipelineResult:
    config = parse_config(SEED_CONFIG)
    result = EvaluationPipeline(config).run(
        model_path=str(good_replay), benchmark_path=str(bench_file)
    )
    assert result.exit_code == 0
    return result


def test_a_failure_in_the_last_step_rolls_back_every_earlier_one(
    tmp_path: Path, deploy: PipelineResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config(
        f"output:\n  dir: {tmp_path / 'reports'}\n  baseline_path: {tmp_path / 'b.json'}\n"
    )
    (tmp_path / "b.json").write_text(OLD, encoding="utf-8")
    summary = tmp_path / "ci" / "summary.md"
    summary.parent.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    preflight(config.output)
    summary.parent.rmdir()  # the step summary goes away after the pre-flight check
    with pytest.raises(OutputError, match="cannot write the step summary"):
        publish_run(deploy, output=config.output)
    reports = tmp_path / "reports"
    assert [p.name for p in reports.iterdir()] == ["history.sqlite"]
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with sqlite3.connect(reports / "history.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_publishing_twice_with_one_run_id_keeps_the_first(
    tmp_path: Path, deploy: PipelineResult
) -> None:
    config = parse_config(f"output:\n  dir: {tmp_path / 'r'}\n  baseline_path: null\n")
    first = publish_run(deploy, output=config.output)
    report = (first.run_dir / "report.json").read_bytes()
    with pytest.raises(OutputError, match="already there"):
        publish_run(deploy, output=config.output)
    assert (first.run_dir / "report.json").read_bytes() == report


def test_redaction_covers_every_credential_form() -> None:
    basic = base64.b64encode(f"user:{SECRET}".encode()).decode()
    cases = {
        f"https://bob:{SECRET}@h/v1": "https://***@h/v1",
        "http://h/v1?api-key=abc123&x=1": "http://h/v1?api-key=***&x=1",
        "http://h/?access_token=t0k&X-Amz-Signature=s1g": "http://h/?access_token=***&X-Amz-Signature=***",
        f"Authorization: Bearer {SECRET}": "Authorization: Bearer ***",
        f'"authorization": "Basic {basic}"': '"authorization": "Basic ***"',
        f"plain {SECRET}.": "plain ***.",
        "Basic understanding is fine": "Basic understanding is fine",
    }
    for text, want in cases.items():
        assert redact_text(text, [SECRET]) == want
    for pad in ("", "a", "ab"):
        blob = base64.b64encode(f"{pad}{SECRET}tail".encode()).decode()
        assert base64.b64encode(SECRET.encode()).decode()[:12] not in redact_text(blob, [SECRET])
        assert redact_text(blob, [SECRET]) != blob


def test_redact_data_redacts_every_string_and_key_however_often_it_repeats() -> None:
    leak = f"Authorization: Bearer {SECRET}"
    clean = redact_text(leak, [SECRET])
    data = {"a": [leak, {"k": leak}, (leak, 3)], leak: leak, "b": {leak: [leak]}, "n": 1.5}
    assert redact_data(data, [SECRET]) == {
        "a": [clean, {"k": clean}, [clean, 3]],
        clean: clean,
        "b": {clean: [clean]},
        "n": 1.5,
    }
    assert redact_data([leak, leak], []) == [redact_text(leak), redact_text(leak)]


def test_the_json_precheck_never_misses_what_redaction_would_change() -> None:
    """Whatever string redaction would change, its JSON document is sent to the walk."""
    rng = random.Random(7)
    quoted = 'ke"y\\with-escapes-' + SECRET
    secrets = [SECRET, quoted, "sécret-ünïcode-value"]
    basic = base64.b64encode(f"user:{SECRET}".encode()).decode()
    parts = [
        SECRET,
        quoted,
        "sécret-ünïcode-value",
        "https://bob:pw@h/v1",
        "?api-key=abc",
        "&Access_Token=x",
        "Authorization: ",
        "Bearer abcdefghijklmnopqrstuv",
        f"Basic {basic}",
        "plain",
        " ",
        '"',
        "\\",
        "\n",
        "\x01",
        "é",
        "\u2028",
        "=",
        ":",
        "/",
        "key",
        "?",
        "@",
        base64.b64encode(f"ab{SECRET}tail".encode()).decode(),
    ]
    changed = 0
    for _ in range(3000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        if redact_text(text, secrets) == text:
            continue
        changed += 1
        for document in (
            json.dumps({"k": [text]}, ensure_ascii=False),
            json.dumps({text: 1}),
            pydantic_core.to_json({"k": text}).decode(),  # the serializer publish uses
        ):
            assert may_redact_json(document, secrets), text
    assert changed > 500
    plain = json.dumps({"output": '{"action": "list_tasks"}', "n": 1})
    assert not may_redact_json(plain, [SECRET])  # the fast path is taken
    assert may_redact_json(plain, secrets)  # a secret JSON would escape: always the walk


def test_the_header_precheck_agrees_with_the_case_insensitive_pattern() -> None:
    """Every character the pattern folds to a letter of its words lower-cases to it, or is sent
    to the regex: the fast test can never miss what ``_MAYBE_HEADER`` would find."""
    letters = set("authorizationbearerbasic")
    any_letter = re.compile(f"[{''.join(sorted(letters))}]", re.IGNORECASE)
    odd = {
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if any_letter.fullmatch(c) and c.lower() not in letters
    }
    assert odd <= set(redact._FOLDS_OTHERWISE)
    for text in ("x AUTHORIZATION y", "Bearer", "baſic", "authorızation", "plain text"):
        assert redact._may_name_a_header(text) == bool(redact._MAYBE_HEADER.search(text)), text


def test_known_secrets_reads_key_like_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SERVICE_TOKEN", SECRET)
    monkeypatch.setenv("CUSTOM", "abcdefghijkl")
    assert SECRET in known_secrets()
    assert "abcdefghijkl" in known_secrets(["CUSTOM"])
    assert "pa55word-long" in known_secrets(urls=["http://u:pa55word-long@h/"])


def test_the_judge_cache_stores_replies_with_keys_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    cache = JudgeCache(tmp_path / "judge.sqlite")
    cache.put("k", model="m", reply=CachedReply(f'{{"rationale": "key {SECRET}"}}', 1, 2))
    cache.close()
    assert SECRET.encode() not in (tmp_path / "judge.sqlite").read_bytes()
    again = JudgeCache(tmp_path / "judge.sqlite").get("k")
    assert again is not None and again.reply == '{"rationale": "key ***"}'


def test_corrupt_caches_are_moved_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("gen.sqlite", "judge.sqlite"):
        (tmp_path / name).write_bytes(b"SQLite format 3\0" + b"\x07" * 5000)
    info = ModelInfo(backend="hf", ref="m", fingerprint="sha256:x", cacheable=True)
    prompt = Prompt(sample_id="a", input="hi")
    with caplog.at_level(logging.WARNING):
        gen = GenerationCache(tmp_path / "gen.sqlite")
        key = generation_key(info, prompt, GenerationParams())
        gen.put_many([(key, Generation(sample_id="a", text="out"))])
        assert gen.get(key, sample_id="a") is not None
        gen.close()
        JudgeCache(tmp_path / "judge.sqlite").close()
    assert "generation cache" in caplog.text and "moved aside" in caplog.text
    assert "judge cache" in caplog.text
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 2
