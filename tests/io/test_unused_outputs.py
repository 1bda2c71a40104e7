"""A command refused after it created its output directory leaves nothing behind (issue 21.1):
``xcs.io.paths.removing_unused_outputs`` (around every command line) undoes what
``output_directory`` made when the command fails before writing into it, and never anything else."""

from __future__ import annotations

import json

import pytest

from xcs.cli import main
from xcs.io.paths import OUTPUT_MARKER, output_directory, output_file, removing_unused_outputs


class Refused(Exception):
    pass


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _fail_after(*paths, command="xcs eval", write=None):
    with pytest.raises(Refused), removing_unused_outputs():
        for path in paths:
            output_directory(path, "--out", command=command)
        if write is not None:
            write.write_text("a result")
        raise Refused


def test_new_directories_and_their_new_parents_are_removed(tmp_path):
    _fail_after(tmp_path / "a" / "b" / "out", tmp_path / "work")
    assert _tree(tmp_path) == []


def test_an_empty_directory_that_existed_is_kept_without_the_marker(tmp_path):
    (tmp_path / "parent" / "out").mkdir(parents=True)
    _fail_after(tmp_path / "parent" / "out")
    assert _tree(tmp_path) == ["parent", "parent/out"]


def test_a_directory_written_to_is_kept(tmp_path):
    out = tmp_path / "new" / "out"
    _fail_after(out, write=out / "metrics.json")
    assert _tree(tmp_path) == ["new", "new/out", f"new/out/{OUTPUT_MARKER}", "new/out/metrics.json"]


def test_a_parent_that_something_else_wrote_to_is_kept(tmp_path):
    out = tmp_path / "new" / "out"
    _fail_after(out, write=tmp_path / "new" / "other.txt")
    assert _tree(tmp_path) == ["new", "new/other.txt"]


def test_an_earlier_output_of_the_command_is_never_touched(tmp_path):
    out = output_directory(tmp_path / "run", "--out", command="xcs eval")  # an earlier run's
    (out / "metrics.json").write_text("{}")
    _fail_after(out)
    assert _tree(tmp_path) == ["run", f"run/{OUTPUT_MARKER}", "run/metrics.json"]
    empty_but_marked = output_directory(tmp_path / "marked", "--out", command="xcs eval")  # outside: kept
    _fail_after(empty_but_marked)
    assert (empty_but_marked / OUTPUT_MARKER).is_file()


def test_a_marker_replaced_by_another_command_is_kept(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(Refused), removing_unused_outputs():
        output_directory(out, "--out", command="xcs eval")
        (out / OUTPUT_MARKER).write_text(json.dumps({"command": "xcs train"}))
        raise Refused
    assert json.loads((out / OUTPUT_MARKER).read_text()) == {"command": "xcs train"}


def test_success_keeps_everything_and_output_file_parents_are_removed_too(tmp_path):
    with removing_unused_outputs():
        output_directory(tmp_path / "ok", "--out", command="xcs eval")
    assert (tmp_path / "ok" / OUTPUT_MARKER).is_file()
    with pytest.raises(Refused), removing_unused_outputs():
        output_file(tmp_path / "lex" / "sub" / "en-de.tsv", "--out", overwrite=False)
        raise Refused
    assert _tree(tmp_path) == ["ok", f"ok/{OUTPUT_MARKER}"]


def test_a_nested_failure_is_undone_once_and_the_outer_undoes_the_rest(tmp_path):
    with pytest.raises(Refused), removing_unused_outputs():
        output_directory(tmp_path / "outer", "--out", command="xcs eval")
        with removing_unused_outputs():
            output_directory(tmp_path / "inner", "--out", command="xcs eval")
        raise Refused
    assert _tree(tmp_path) == []


def test_a_refused_command_line_leaves_no_directory(tmp_path, monkeypatch, capsys):
    """``xcs experiment`` made --results-dir, then found --work-dir a file (the hostile suite covers
    the other commands)."""
    import xcs.experiment.config

    class PassingConfig:  # a config that passes every check (what load_config checks is tested elsewhere)
        name = "c"

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "c.toml"
    config.write_text("name='c'\n")
    monkeypatch.setattr(xcs.experiment.config, "load_config", lambda *args, **kwargs: PassingConfig())
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("a file")
    results = tmp_path / "results" / "c"
    assert main(["experiment", "--config", str(config), "--data-dir", str(data),
                 "--results-dir", str(results), "--work-dir", str(blocker)]) == 1
    assert "--work-dir" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
