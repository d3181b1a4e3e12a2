"""The typed registry: lazy entries, and plugins read from the installed entry points."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate import registry
from releasegate.registry import Registry


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A distribution with entry points in two groups; yields a count of scans."""
    dist = tmp_path / "rg_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rg-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[releasegate.test_a]\ndumps = json:dumps\n\n[releasegate.test_b]\nloads = json:loads\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    scans: list[int] = []
    real = registry.entry_points
    monkeypatch.setattr(registry, "entry_points", lambda **kw: scans.append(1) or real(**kw))
    registry._installed_entry_points.cache_clear()
    yield scans
    registry._installed_entry_points.cache_clear()


def test_plugins_of_every_registry_come_from_one_scan_of_the_entry_points(
    installed_plugin: list[int],
) -> None:
    first = Registry[object]("a", group="releasegate.test_a")
    second = Registry[object]("b", group="releasegate.test_b")
    assert first.names() == ["dumps"] and first.get("dumps") is json.dumps
    assert second.names() == ["loads"] and second.get("loads") is json.loads
    assert installed_plugin == [1]


def test_a_built_in_entry_wins_over_a_plugin_of_the_same_name(
    installed_plugin: list[int],
) -> None:
    reg = Registry[object]("a", group="releasegate.test_a")
    reg.add("dumps", "json:loads")
    assert reg.get("dumps") is json.loads
