"""xcs.io.versions: the versions every run record stores, and a benchmark report that carries them."""

from __future__ import annotations

import json
import platform
from importlib import metadata

import pytest

import xcs
from xcs.cli import main
from xcs.io.versions import versions

KEYS = {"python", "torch", "transformers", "triton", "numpy", "xcs"}


def test_versions_names_python_and_the_five_packages():
    found = versions()
    assert set(found) == KEYS
    assert found["python"] == platform.python_version()
    assert found["xcs"] == xcs.__version__
    for name in ("torch", "transformers", "numpy"):
        assert found[name] == metadata.version(name)
    try:
        assert found["triton"] == metadata.version("triton")
    except metadata.PackageNotFoundError:
        assert found["triton"] is None


def test_versions_of_an_imported_module_come_from_the_module():
    import numpy
    import torch

    found = versions()
    assert found["torch"] == torch.__version__ and found["numpy"] == numpy.__version__


@pytest.mark.parametrize("command", [["bench", "metrics", "--queries", "200", "--candidates", "20",
                                      "--subset", "50", "--repeats", "1"]])
def test_benchmark_reports_record_the_versions(command, capsys):
    assert main(command) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["environment"] == versions()
