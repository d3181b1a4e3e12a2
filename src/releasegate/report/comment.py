"""``report-comment.md``: the Markdown report shaped for a pull-request comment.

GitHub rejects a comment over 65,536 characters. The comment keeps the verdict, the
reasons, the warnings (gate drift, stale baseline) and the gates table in the open,
folds every other section of ``report.md`` into its own ``<details>``, and, when the
whole would still be too long, shortens the longest sections first, each with a
note that the full text is in the report artifact.
"""

from __future__ import annotations

from releasegate.records.run import PipelineResult
from releasegate.report.markdown import render_markdown

GITHUB_COMMENT_LIMIT = 65_536
BUDGET = 60_000
"""What the comment may use: the limit less room for a bot's own header and footer."""
_OPEN = ("Quality gates",)
_CUT_NOTE = "\n\n…(shortened to fit a pull-request comment; the full text is in report.md)\n"


def render_comment(result: PipelineResult, *, budget: int = BUDGET) -> str:
    """The comment text, never longer than ``budget`` characters."""
    head, sections = _split(render_markdown(result))
    shown = [head] + [f"## {title}\n\n{body}" for title, body in sections if title in _OPEN]
    folded = [(title, body) for title, body in sections if title not in _OPEN]
    marker = f"<!-- releasegate run {result.run.run_id} -->"
    fixed = "\n\n".join([*shown, marker])
    room = budget - len(fixed) - 2
    blocks = _fit([_fold(title, body) for title, body in folded], room)
    text = "\n\n".join([*shown, *blocks, marker]) + "\n"
    if len(text) > budget:  # the open part alone is too long: cut it too
        text = text[: budget - len(_CUT_NOTE)] + _CUT_NOTE
    return text


def _split(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """The part before the first ``## `` heading, and (title, body) per section."""
    chunks = markdown.split("\n## ")
    sections = []
    for chunk in chunks[1:]:
        title, _, body = chunk.partition("\n")
        sections.append((title.strip(), body.strip("\n")))
    return chunks[0].rstrip("\n"), sections


def _fold(title: str, body: str) -> str:
    return f"<details><summary><b>{title}</b></summary>\n\n{body}\n\n</details>"


def _fit(blocks: list[str], room: int) -> list[str]:
    """Shorten the longest blocks until all fit in ``room`` characters."""
    sizes = [len(b) for b in blocks]
    while sum(sizes) + 2 * len(blocks) > room and any(sizes):
        longest = max(range(len(blocks)), key=lambda i: sizes[i])
        excess = sum(sizes) + 2 * len(blocks) - room
        keep = max(0, sizes[longest] - excess - len(_CUT_NOTE) - 16)
        blocks[longest] = _shorten(blocks[longest], keep)
        sizes[longest] = len(blocks[longest])
        if keep == 0:
            blocks[longest] = ""
            sizes[longest] = 0
    return [b for b in blocks if b]


def _shorten(block: str, keep: int) -> str:
    """The block cut at a line break, with its ``<details>`` still closed."""
    cut = block[:keep]
    if "\n" in cut:
        cut = cut[: cut.rfind("\n")]
    # Close an open code fence so the rest of the comment is not swallowed by it.
    fence = _open_fence(cut)
    if fence:
        cut += f"\n{fence}"
    still_open = cut.count("<details>") - cut.count("</details>")
    return cut + _CUT_NOTE + "\n</details>" * max(1, still_open)


def _open_fence(text: str) -> str:
    fence = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("```"):
            continue
        ticks = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        if not fence:
            fence = ticks
        elif ticks == fence and stripped == ticks:
            fence = ""
    return fence
