"""Every ```python block of README.md and docs/*.md runs.

The blocks of one file share a namespace and run in order, as a reader would paste them, in a scratch
directory laid out like the repository's neighbourhood: ``../shared/data`` is the data directory (the
``data_dir`` fixture: ``$XCS_DATA_DIR`` or the checkout's ``../shared/data``) and ``runs/`` is
scratch. A block preceded by ``<!-- slow -->`` needs the real encoder or minutes on CPU: its file's
test carries the ``slow`` marker (``make test`` and CI run it all the same; ``-m "not slow"`` skips
it). Tracebacks point at the Markdown file's own line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
SLOW = "<!-- slow -->"


@dataclass
class Block:
    line: int  # the first code line, 1-based
    code: str
    slow: bool


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path`` (an unterminated fence is an error)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start, i = i, i + 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: code fence never closed")
        if fence.group(1) == "python":
            before = [line.strip() for line in lines[:start] if line.strip()]
            slow = bool(before) and before[-1] == SLOW
            blocks.append(Block(start + 2, "\n".join(lines[start + 1:i]), slow))
        i += 1
    return blocks


def _params():
    for path in DOCS:
        blocks = python_blocks(path)
        if blocks:
            marks = [pytest.mark.slow] if any(b.slow for b in blocks) else []
            yield pytest.param(path, id=str(path.relative_to(REPO)), marks=marks)


def test_the_collector_finds_the_blocks(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("text\n\n```python\na = 1\n```\n\n<!-- slow -->\n\n```python\nb = a\n```\n"
                   "```bash\nls\n```\n")
    assert python_blocks(doc) == [Block(4, "a = 1", False), Block(10, "b = a", True)]
    assert sum(len(python_blocks(p)) for p in DOCS) >= 10


@pytest.mark.parametrize("path", list(_params()))
def test_python_blocks_run(path, data_dir, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    root = tmp_path / "checkout"
    root.mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(data_dir, target_is_directory=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("XCS_DATA_DIR", str(data_dir))
    namespace: dict = {"__name__": "__docs__"}
    for block in python_blocks(path):
        # padded so that line numbers in a traceback are the Markdown file's
        code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
        exec(code, namespace)  # noqa: S102 - the documentation is the code under test
