"""report.html: self-contained, escaped, and inert in a real headless Chromium."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemBytecodeCache, Template

from helpers import example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report import html
from releasegate.report.html import TemplateCache, load_template, render_html

EVIL = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


@pytest.fixture
def evil_result(tmp_path: Path) -> PipelineResult:
    rows = example_rows(20)
    replay = replay_rows(rows, wrong=range(0, 20, 4))
    replay[0]["output"] = EVIL
    rows[1]["category"] = "<b>cat</b>"
    bench = write_jsonl(tmp_path / "b.jsonl", rows)
    model = write_jsonl(tmp_path / "m.jsonl", replay)
    config = parse_config(
        "quality_gates:\n  - {name: acc, metric: accuracy, threshold: 0.9, comparison: '>='}\n"
    )
    return EvaluationPipeline(config).run(model_path=str(model), benchmark_path=str(bench))


def test_html_has_no_script_no_handlers_and_no_external_loads(evil_result: PipelineResult) -> None:
    page = render_html(evil_result)
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert parser.handlers == []
    assert "&lt;script&gt;document.title=" in page
    assert "&lt;b&gt;cat&lt;/b&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<svg" in page and "Content-Security-Policy" in page


def _render(result: PipelineResult, template: Template, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(html, "_template", lambda: template)
    return render_html(result)


def test_a_rerun_takes_the_compiled_template_from_the_cache(
    evil_result: PipelineResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TemplateCache(str(tmp_path))
    compiled = _render(evil_result, load_template(None), monkeypatch)
    assert _render(evil_result, load_template(cache), monkeypatch) == compiled
    assert len(list(tmp_path.glob("*.cache"))) == 1  # the entry the next run reads

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the template")

    monkeypatch.setattr(Environment, "compile", no_compile)
    assert _render(evil_result, load_template(cache), monkeypatch) == compiled


def test_an_entry_compiled_without_autoescaping_is_never_used(
    evil_result: PipelineResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TemplateCache(str(tmp_path))
    monkeypatch.setattr(html, "_AUTOESCAPE", False)
    load_template(cache)  # an entry for the same source and file, compiled unescaped
    monkeypatch.setattr(html, "_AUTOESCAPE", True)
    page = _render(evil_result, load_template(cache), monkeypatch)
    assert "&lt;script&gt;document.title=" in page and "<script>" not in page


def test_a_damaged_or_unwritable_cache_costs_only_a_compile(
    evil_result: PipelineResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TemplateCache(str(tmp_path))
    compiled = _render(evil_result, load_template(None), monkeypatch)
    load_template(cache)
    (entry,) = tmp_path.glob("*.cache")
    whole = entry.read_bytes()
    for damaged in (whole[:20], whole[:-100], b"not a cache entry"):
        entry.write_bytes(damaged)
        assert _render(evil_result, load_template(cache), monkeypatch) == compiled

    def disk_full(self: FileSystemBytecodeCache, bucket: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    entry.unlink()
    monkeypatch.setattr(FileSystemBytecodeCache, "dump_bytecode", disk_full)
    assert _render(evil_result, load_template(cache), monkeypatch) == compiled
    assert not entry.exists()


def test_without_a_safe_cache_folder_the_template_is_compiled_every_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unsafe(self: FileSystemBytecodeCache) -> str:
        raise RuntimeError("Cannot determine safe temp directory.")

    monkeypatch.setattr(FileSystemBytecodeCache, "_get_default_cache_dir", unsafe)
    assert html._default_cache() is None
    assert isinstance(load_template(None), Template)


def _chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


def test_page_is_inert_in_headless_chromium(evil_result: PipelineResult, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium for the HTML report test (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(render_html(evil_result), encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    assert "<title>releasegate BLOCK" in dom
    assert "pwned</title>" not in dom
    assert "document.title='pwned'" in dom  # shown as text
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert shot.stat().st_size > 10_000
    if os.environ.get("RELEASEGATE_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["RELEASEGATE_KEEP_SCREENSHOT"])
