"""``xcs lexicon build|eval`` end to end on small files the tests write."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xcs.cli import main
from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.vectors import WordVectors, write_vec


def test_build_from_dictionary_with_filters_then_eval(tmp_path, capsys):
    dictionary = tmp_path / "en-ru.txt"
    dictionary.write_text("cat\tко\u0301шка\ncat\tcat\ncat\tкот\ndog\tсобака\nthe\tthe\n", encoding="utf-8")
    out = tmp_path / "out" / "en-ru.tsv"
    rc = main(["lexicon", "build", "--source", "muse", "--input", str(dictionary), "--src-lang", "en",
               "--tgt-lang", "ru", "--strip-marks", "--target-script", "--max-candidates", "1",
               "--out", str(out), "--quiet"])
    assert rc == 0
    assert out.read_text(encoding="utf-8") == "cat\tкошка\ndog\tсобака\n"
    gold = tmp_path / "gold.txt"
    gold.write_text("cat\tкошка\ndog\tпёс\n", encoding="utf-8")
    assert main(["lexicon", "eval", str(out), "--gold", str(gold), "--top", "100", "5000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluated"] == 2
    assert report["precision"] == {"1": 0.5, "5": 0.5}
    # "dog" and "cat" are among the 5000 most frequent English words, not among the 100
    assert report["coverage"] == {"100": 0.0, "5000": 2 / 5000}


def test_build_from_vectors_with_procrustes(tmp_path):
    rng = np.random.default_rng(0)
    d, n = 16, 200
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    x = rng.normal(size=(n, d)).astype(np.float32)
    write_vec(tmp_path / "xx.vec", WordVectors([f"s{i}" for i in range(n)], x))
    write_vec(tmp_path / "yy.vec", WordVectors([f"t{i}" for i in range(n)], (x @ q).astype(np.float32)))
    seed = tmp_path / "seed.tsv"
    seed.write_text("".join(f"s{i}\tt{i}\n" for i in range(0, n, 5)), encoding="utf-8")
    out = tmp_path / "xx-yy.tsv"
    rc = main(["lexicon", "build", "--source", "vectors", "--src-vectors", str(tmp_path / "xx.vec"),
               "--tgt-vectors", str(tmp_path / "yy.vec"), "--seed", str(seed), "--src-lang", "xx",
               "--tgt-lang", "yy", "--vocab-size", "100", "--refine", "1", "--out", str(out), "--quiet"])
    assert rc == 0
    lex = Lexicon.load(out, "xx", "yy")
    assert len(lex) == 100
    assert all(lex[f"s{i}"] == [f"t{i}"] for i in range(100))


def test_build_by_pivoting(tmp_path):
    (tmp_path / "ar-en.txt").write_text("بيت house\nبيت home\n", encoding="utf-8")
    (tmp_path / "en-it.txt").write_text("house casa\nhome casa\nhome dimora\n", encoding="utf-8")
    out = tmp_path / "ar-it.tsv"
    rc = main(["lexicon", "build", "--source", "pivot", "--first", str(tmp_path / "ar-en.txt"),
               "--second", str(tmp_path / "en-it.txt"), "--src-lang", "ar", "--tgt-lang", "it",
               "--out", str(out), "--quiet"])
    assert rc == 0
    assert out.read_text(encoding="utf-8") == "بيت\tcasa\nبيت\tdimora\n"


def test_missing_arguments_are_clear_errors(tmp_path, capsys):
    rc = main(["lexicon", "build", "--source", "pivot", "--src-lang", "ar", "--tgt-lang", "it",
               "--out", str(tmp_path / "x.tsv")])
    assert rc == 1
    assert "needs --first" in capsys.readouterr().err
    rc = main(["lexicon", "eval", str(tmp_path / "lexicon.tsv")])
    assert rc == 1
    assert "pass --src-lang" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--source", "muse", "--src-vectors", "x.vec"],
     "--src-vectors is an option of --source vectors, not --source muse"),
    (["--source", "cldr", "--model", "m"], "--model is an option of --source encoder, not --source cldr"),
    (["--source", "encoder", "--max-words", "2"],
     "--max-words is an option of --source wikititles or --source cldr"),
    (["--source", "vectors", "--src-vectors", "a.vec", "--tgt-vectors", "b.vec", "--no-align",
      "--refine", "1"],
     "--refine: options of the Procrustes alignment, which --no-align skips"),
    (["--source", "muse", "--input", "en-de.txt", "--data-dir", "."],
     "--data-dir: it only locates the default --input, which is given"),
])
def test_options_of_another_source_are_refused(tmp_path, capsys, argv, message):
    out = tmp_path / "x.tsv"
    assert main(["lexicon", "build", "--src-lang", "en", "--tgt-lang", "de", *argv, "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()
