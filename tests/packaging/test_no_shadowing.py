"""The repository root shadows no installed package (issue 20).

``python -m pytest`` and ``python -c`` from the checkout put the repository root first on
``sys.path``. The Triton sources live in the top-level folder ``kernels/`` (shipped as
``xcs.kernels``), and Hugging Face's ``kernels`` package (a dependency of recent transformers) has
the same top-level name: ``kernels/`` therefore has no ``__init__.py``, so that it is at most a
namespace portion, which any installed regular package of that name takes precedence over.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_only_xcs_is_a_regular_package_at_the_root():
    importable = sorted(
        path.name
        for path in ROOT.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or (path.is_file() and path.suffix == ".py")
    )
    assert importable == ["xcs"], f"the repository root would shadow these top-level names: {importable}"


def _run_from_root(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {code}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_huggingface_kernels_wins_over_the_kernels_folder():
    try:
        importlib.metadata.distribution("kernels")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("Hugging Face's 'kernels' is not installed (transformers < 5.2x does not need it)")
    out = _run_from_root(
        "import kernels, xcs.kernels.contrastive as c; from transformers import Trainer; "
        "print(kernels.__file__); print(c.__file__)"
    )
    hf_file, ours = out.split()
    assert not Path(hf_file).is_relative_to(ROOT / "kernels"), hf_file
    assert Path(ours).name == "contrastive.py"


def test_transformers_imports_beside_the_kernels_folder():
    """Without Hugging Face's package too: transformers must not mistake the folder for it."""
    _run_from_root("import xcs; from transformers import Trainer; import xcs.kernels.contrastive")
