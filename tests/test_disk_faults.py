"""Disk faults through the real CLI: a read-only output folder, a full disk.

Both use a real tmpfs mount (64 KiB); where mounting is not allowed (not root, no
CAP_SYS_ADMIN, not Linux) the tests skip and say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.cli import app


def _mount(target: Path, *options: str) -> Iterator[Path]:
    target.mkdir()
    opts = ",".join(("size=64k", *options))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not sys.platform.startswith("linux"):
        pytest.skip(
            f"DISK-FAULT TEST NOT RUN: cannot mount a tmpfs here ({done.stderr.strip()}); "
            "run as root on Linux to cover read-only and full disks"
        )
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "ro", "ro")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "small")


def _fill(disk: Path, *, leave: int) -> None:
    """Fill ``disk`` until at most ``leave`` bytes fit."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    if leave:
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    os.close(fd)


def _run(out: Path, bench: Path, replay: Path, config: Path) -> tuple[int, str]:
    args = ["run", "--model", replay, "--benchmark", bench, "--config", config]
    args += ["--output-dir", out / "reports", "--save-baseline", out / "b.json"]
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stderr


def test_a_read_only_output_dir_fails_before_the_run_naming_it(
    readonly_dir: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    code, err = _run(readonly_dir, bench_file, good_replay, seed_config)
    assert code == 2, err
    assert f"{readonly_dir}: cannot write output.dir (--output-dir): Read-only file system" in err


def test_a_full_disk_fails_before_the_run_naming_it(
    small_disk: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    _fill(small_disk, leave=0)
    code, err = _run(small_disk, bench_file, good_replay, seed_config)
    assert code == 2, err
    assert f"{small_disk}: cannot write output.dir (--output-dir): No space left on device" in err


def test_a_disk_that_fills_while_publishing_leaves_nothing_behind(
    small_disk: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    _fill(small_disk, leave=12 * 1024)  # room for the pre-flight probe, not for the reports
    code, err = _run(small_disk, bench_file, good_replay, seed_config)
    assert code == 2, err
    assert "cannot write the run directory: No space left on device" in err
    assert "internal error" not in err
    left = sorted(p.name for p in small_disk.rglob("*"))
    assert left in (["filler"], ["filler", "reports"]), left
