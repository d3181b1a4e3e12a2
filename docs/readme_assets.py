"""Regenerate the README's report screenshot and Markdown excerpt from the demo.

    .venv/bin/python docs/readme_assets.py

Runs the offline demo (tiny-v1 DEPLOY, then tiny-v2 BLOCK against it), takes a
headless-Chromium screenshot of tiny-v2's report.html at laptop width into
docs/images/report-html.png, and replaces the README text between the
``report-excerpt`` markers with the top of tiny-v2's report.md (verdict, reasons,
warnings and the gates table).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_OUT = ROOT / "reports" / "demo"
SHOT = ROOT / "docs" / "images" / "report-html.png"
README = ROOT / "README.md"
START, END = "<!-- report-excerpt:start -->", "<!-- report-excerpt:end -->"


def blocked_run() -> Path:
    """The demo's BLOCK run directory."""
    for report in sorted(DEMO_OUT.glob("*/report.json")):
        if json.loads(report.read_text(encoding="utf-8"))["decision"] == "BLOCK":
            return report.parent
    raise SystemExit(f"no BLOCK run under {DEMO_OUT}: did the demo run?")


def screenshot(page: Path, target: Path, *, width: int = 1280, height: int = 1500) -> None:
    """Render ``page`` in headless Chromium and save a PNG."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    target.parent.mkdir(parents=True, exist_ok=True)
    profile = DEMO_OUT / ".chromium-profile"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)


def excerpt(report_md: str) -> str:
    """The verdict, reasons, warnings and gates table of a report.md."""
    head, _, rest = report_md.partition("\n## Quality gates")
    table = rest.split("\n## ", 1)[0]
    return f"{head.rstrip()}\n\n## Quality gates{table.rstrip()}\n"


def update_readme(text: str) -> None:
    """Replace the README's excerpt between the markers."""
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the {START} / {END} markers")
    before, _, tail = readme.partition(START)
    _, _, after = tail.partition(END)
    # Headings of the excerpt become bold lines so they stay out of the README's outline.
    body = "\n".join(
        f"**{line.lstrip('#').strip().replace('**', '')}**" if line.startswith("#") else line
        for line in text.splitlines()
    )
    README.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


def main() -> int:
    """Run the demo, then refresh both assets."""
    demo = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "task-api" / "demo.py")], check=False
    )
    if demo.returncode != 0:
        print("the demo failed; assets not updated", file=sys.stderr)
        return 1
    run_dir = blocked_run()
    # The page as a reader of the README should see it: paths relative to the repository.
    page = DEMO_OUT / ".readme-report.html"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    page.write_text(html.replace(f"{ROOT}/", ""), encoding="utf-8")
    screenshot(page, SHOT)
    page.unlink()
    report_md = (run_dir / "report.md").read_text(encoding="utf-8")
    update_readme(excerpt(report_md.replace(f"{ROOT}/", "")))
    print(f"wrote {SHOT.relative_to(ROOT)} and the README excerpt from {run_dir.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
