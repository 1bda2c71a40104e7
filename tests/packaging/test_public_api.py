"""The public API: every package exports its names lazily in one style, importing a package stays
cheap, and every ``xcs...`` name that README.md and docs/*.md mention exists."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xcs

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["xcs"] + [f"xcs.{m.name}" for m in pkgutil.iter_modules(xcs.__path__) if m.ispkg]
EXPORTING = [name for name in PACKAGES if hasattr(importlib.import_module(name), "_EXPORTS")]
HEAVY = ("torch", "transformers", "triton", "numba", "sentence_transformers", "scipy")


def test_every_stage_exports_its_names():
    # the stages of the data flow; cli, bench and comparisons are commands and benchmarks, not an API
    stages = {"xcs.data", "xcs.io", "xcs.lexicons", "xcs.switching", "xcs.models", "xcs.loss",
              "xcs.evaluation", "xcs.training", "xcs.experiment", "xcs.integrations"}
    assert stages | {"xcs"} <= set(EXPORTING)


@pytest.mark.parametrize("package", EXPORTING)
def test_exports_resolve_to_their_defining_module(package):
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module._EXPORTS) == dir(module)
    for name, where in module._EXPORTS.items():
        value = getattr(module, name)
        assert value is getattr(importlib.import_module(where), name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", EXPORTING)
def test_importing_a_package_imports_nothing_heavy(package):
    code = (f"import sys, {package}; heavy = [m for m in {HEAVY!r} if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == ""


def test_the_version_has_one_source():
    assert re.search(r'^dynamic = \["version"\]', (REPO / "pyproject.toml").read_text(), re.M)
    assert "metadata.version.input = \"xcs/__init__.py\"" in (REPO / "pyproject.toml").read_text()
    from importlib.metadata import version

    assert version("xcs") == xcs.__version__


def test_the_native_module_has_a_stub_that_matches_it():
    native = importlib.import_module("xcs._native")
    stub = (REPO / "xcs" / "_native.pyi").read_text()
    public = {name for name in dir(native) if not name.startswith("_")}
    assert public == set(re.findall(r"^(?:def|class) (\w+)", stub, re.M))
    members = {name for name in dir(native.CompiledLexicon) if not name.startswith("_")}
    assert members <= set(re.findall(r"^    def (\w+)", stub, re.M))
    assert (REPO / "xcs" / "py.typed").exists()


def _documented_names() -> set[str]:
    names = set()
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for code in re.findall(r"`([^`\n]+)`", path.read_text()) + re.findall(
                r"^(?:from|import) xcs[^\n]*$", path.read_text(), re.M):
            names.update(re.findall(r"(?<![\w/.-])(xcs(?:\.\w+)+)", code))
            for module, imported in re.findall(r"from (xcs(?:\.\w+)*) import ([\w, ()]+)", code):
                names.update(f"{module}.{n.strip()}" for n in imported.strip("()").split(",") if n.strip())
    return names


DOCUMENTED = sorted(_documented_names())


def test_the_docs_mention_names():
    assert len(DOCUMENTED) > 50 and "xcs.evaluation.significance.seed_level_test" in DOCUMENTED


@pytest.mark.parametrize("dotted", DOCUMENTED)
def test_every_documented_name_exists(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            value = importlib.import_module(".".join(parts[:cut]))
            break
        except ModuleNotFoundError:
            continue
    for attribute in parts[cut:]:
        value = getattr(value, attribute)
