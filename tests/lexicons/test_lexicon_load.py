import gzip

import pytest

from xcs.lexicons.lexicon import Lexicon, LexiconFormatError


def test_load_tab_and_space_separated(tmp_path):
    path = tmp_path / "en-de.txt"
    path.write_text("house\tHaus\nhouse Gebäude\ncat\tKatze\ncat\tKatze\nsame\tsame\n\n", "utf-8")
    lex = Lexicon.load(path, "en", "de", drop_identical=True)
    assert lex["house"] == ["Haus", "Gebäude"]
    assert lex["cat"] == ["Katze"]
    assert "same" not in lex
    capped = Lexicon.load(path, "en", "de", max_candidates=1, lowercase=True)
    assert capped["house"] == ["haus"]


def test_load_gzip(tmp_path):
    path = tmp_path / "en-de.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("dog\tHund\n")
    assert Lexicon.load(path, "en", "de")["dog"] == ["Hund"]


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("dog\tHund\nno-separator\ncat\tKatze\n", "utf-8")
    with pytest.raises(LexiconFormatError, match=r"bad\.txt:2"):
        Lexicon.load(path, "en", "de")
    lex = Lexicon.load(path, "en", "de", on_error="skip")
    assert lex.skipped_lines == 1 and len(lex) == 2


def test_non_utf8_names_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"dog\tHund\ncaf\xe9\tCaf\xe9\n")
    with pytest.raises(LexiconFormatError, match=r"latin1\.txt:2: not valid UTF-8"):
        Lexicon.load(path, "en", "de")


def test_save_roundtrip(tmp_path):
    lex = Lexicon.from_pairs([("new york", "New York"), ("dog", "Hund")], "en", "de")
    lex.save(tmp_path / "out.tsv")
    again = Lexicon.load(tmp_path / "out.tsv", "en", "de")
    assert again.entries == lex.entries and again.max_ngram == 2
