"""Lexicon sources and filters: Wikipedia titles, pivoting, script / mark / frequency filters, quality."""

from __future__ import annotations

import gzip

import pytest

from xcs.lexicons import filters
from xcs.lexicons.lexicon import Lexicon, LexiconFormatError
from xcs.lexicons.pivot import compose
from xcs.lexicons.quality import coverage, evaluate_lexicon, precision_at_k
from xcs.lexicons.wikititles import clean_title, iter_title_pairs, languages_from_name, read_wikititles

# A small file in the linguatools wikititles-2014 schema.
WIKITITLES_XML = """<?xml version="1.0" encoding="UTF-8"?>
<wikipedia lang="en-de">
<translation id="1">
  <entry lang="en">Mercury (planet)</entry>
  <entry lang="de">Merkur (Planet)</entry>
  <redirects lang="de"><redirect>Planet Merkur</redirect></redirects>
  <categories lang="en"><category>Planets of the Solar System</category></categories>
</translation>
<translation id="2">
  <entry lang="en">Category:Quantum mechanics</entry>
  <entry lang="de">Kategorie:Quantenmechanik</entry>
</translation>
<translation id="3">
  <entry lang="en">The</entry>
  <entry lang="de">Der</entry>
</translation>
<translation id="4">
  <entry lang="en">Star Trek: The Next Generation</entry>
  <entry lang="de">Raumschiff Enterprise – Das nächste Jahrhundert</entry>
</translation>
<translation id="5">
  <entry lang="en">New York City</entry>
  <entry lang="de">New York City</entry>
</translation>
<translation id="6">
  <entry lang="en">Tom &amp; Jerry</entry>
  <entry lang="de">Tom und Jerry</entry>
</translation>
</wikipedia>
"""


@pytest.fixture
def titles_file(tmp_path):
    path = tmp_path / "wikititles-2014_ende.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(WIKITITLES_XML)
    return path


def test_wikititles_phrase_lexicon(titles_file):
    lex = read_wikititles(titles_file)
    assert (lex.src_lang, lex.tgt_lang) == ("en", "de")
    assert lex.entries == {
        "mercury": ["merkur"],
        "quantum mechanics": ["quantenmechanik"],
        "new york city": ["new york city"],
        "tom & jerry": ["tom und jerry"],
    }  # "the" is a stopword; the 4- and 5-word Star Trek titles are too long
    assert lex.max_ngram == 3
    with_redirects = read_wikititles(titles_file, include_redirects=True, drop_identical=True)
    assert with_redirects["mercury"] == ["merkur", "planet merkur"]
    assert "new york city" not in with_redirects
    reverse = read_wikititles(titles_file, "de", "en", max_words=5)
    assert reverse["der"] == ["the"]  # stopwords are English-only by default
    assert "raumschiff enterprise – das nächste jahrhundert" not in reverse  # 6 words
    assert reverse["tom und jerry"] == ["tom & jerry"]


def test_wikititles_cleaning_rules():
    assert clean_title("Category:Physics") == "physics"
    assert clean_title("Star Trek: Voyager") == "star trek: voyager"
    assert clean_title("Paris (Texas)  (film)") == "paris"
    assert clean_title("水星（行星）") == "水星"
    assert languages_from_name("/x/wikititles-2014_enzh.xml") == ("en", "zh")
    with pytest.raises(ValueError, match="cannot infer the languages"):
        languages_from_name("titles.xml")


def test_wikititles_malformed_xml_names_the_line(tmp_path):
    path = tmp_path / "wikititles-2014_ende.xml"
    path.write_text('<wikipedia>\n<translation id="1">\n<entry lang="en">A</entry>\n</wikipedia>\n',
                    encoding="utf-8")
    with pytest.raises(LexiconFormatError, match=r"wikititles-2014_ende\.xml:4:\d+: malformed XML"):
        list(iter_title_pairs(path, "en", "de"))


def test_pivot_composition_orders_and_caps():
    ar_en = Lexicon.from_pairs([("كتاب", "book"), ("كتاب", "volume"), ("بيت", "house")], "ar", "en")
    en_it = Lexicon.from_pairs([("book", "libro"), ("book", "volume"), ("volume", "volume"),
                                ("volume", "tomo"), ("house", "casa")], "en", "it")
    ar_it = compose(ar_en, en_it)
    assert (ar_it.src_lang, ar_it.tgt_lang) == ("ar", "it")
    assert ar_it.entries == {"كتاب": ["libro", "volume", "tomo"], "بيت": ["casa"]}
    assert compose(ar_en, en_it, max_per_pivot=1)["كتاب"] == ["libro", "volume"]
    assert compose(ar_en, en_it, max_candidates=2)["كتاب"] == ["libro", "volume"]
    with pytest.raises(ValueError, match="pivot languages differ"):
        compose(ar_en, Lexicon("de", "it"))


def test_script_filters():
    assert filters.letter_script("ж") == "CYRILLIC" and filters.letter_script("1") is None
    assert filters.is_in_script("Straße-2", {"LATIN"})
    assert not filters.is_in_script("123", {"LATIN"})
    lex = Lexicon.from_pairs([("cat", "кошка"), ("cat", "cat"), ("cat", "Katze"), ("dog", "dog")],
                             "en", "ru")
    assert filters.keep_target_script(lex).entries == {"cat": ["кошка"]}
    assert filters.drop_identical(lex).entries == {"cat": ["кошка", "Katze"]}
    assert filters.cap_candidates(lex, 1).entries == {"cat": ["кошка"], "dog": ["dog"]}
    zh = Lexicon.from_pairs([("water", "水"), ("water", "みず"), ("water", "H2O")], "en", "zh")
    assert filters.keep_target_script(zh).entries == {"water": ["水"]}
    with pytest.raises(ValueError, match="no script known"):
        filters.scripts_for("xx")


def test_mark_stripping():
    assert filters.strip_marks("молоко\u0301") == "молоко"
    assert filters.strip_marks("вода́ и йод") == "вода и йод"  # й keeps its breve
    assert filters.strip_marks("كِتَابٌ") == "كتاب"
    lex = Lexicon.from_pairs([("book", "كِتَاب"), ("book", "كتاب")], "en", "ar")
    assert filters.normalize_marks(lex).entries == {"book": ["كتاب"]}


def test_frequent_source_filter_uses_wordfreq_order():
    lex = Lexicon.from_pairs([("xylophone", "xylophon"), ("house", "haus"), ("the", "die"),
                              ("the house", "das haus")], "en", "de")
    kept = filters.keep_frequent_sources(lex, 1000)
    assert list(kept.entries) == ["the", "house", "the house"]


def test_quality_coverage_and_precision():
    gold = Lexicon.from_pairs([("the", "die"), ("the", "der"), ("house", "haus"), ("dog", "hund"),
                               ("cat", "katze")], "en", "de")
    lex = Lexicon.from_pairs([("the", "das"), ("the", "der"), ("house", "Haus"), ("dog", "katze"),
                              ("tree", "baum")], "en", "de")
    p, evaluated = precision_at_k(lex, gold, (1, 2))
    assert evaluated == 3  # the, house, dog: in both; cat is missing from lex, tree from gold
    assert p == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3)}
    assert coverage(lex, ["the", "house", "cat", "bird"]) == 0.5
    quality = evaluate_lexicon(lex, gold, top_words=(10, 100), restrict_to_top=1000)
    assert quality.coverage[10] == pytest.approx(0.1)  # "the" is among the 10 commonest words
    assert quality.precision[1] == pytest.approx(1 / 3)
    assert "P@1: 33.3%" in quality.format()
