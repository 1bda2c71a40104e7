"""The CLDR entity-name source (``xcs.lexicons.cldr``, ``xcs lexicon build --source cldr``): real
babel data, offline; switching with the real tokenizer at p = 1.0."""

from __future__ import annotations

import pytest

from xcs.cli import main
from xcs.lexicons.cldr import KINDS, cldr_names, parse_kinds, read_cldr
from xcs.lexicons.lexicon import Lexicon

XQUADR_LANGUAGES = ("ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh")
# CLDR's names of the United States, Germany and Myanmar (its "Myanmar (Burma)" minus the qualifier)
KNOWN = {
    "ar": ("الولايات المتحدة", "ألمانيا", "ميانمار"),
    "de": ("vereinigte staaten", "deutschland", "myanmar"),
    "el": ("ηνωμένες πολιτείες", "γερμανία", "μιανμάρ"),
    "es": ("estados unidos", "alemania", "myanmar"),
    "hi": ("संयुक्त राज्य", "जर्मनी", "म्यांमार"),
    "ru": ("соединенные штаты", "германия", "мьянма"),
    "th": ("สหรัฐอเมริกา", "เยอรมนี", "เมียนมา"),
    "tr": ("amerika birleşik devletleri", "almanya", "myanmar"),
    "vi": ("hoa kỳ", "đức", "myanmar"),
    "zh": ("美国", "德国", "缅甸"),
}


@pytest.fixture(scope="module")
def cldr_lexicons() -> dict[str, Lexicon]:
    return {lang: read_cldr("en", lang) for lang in XQUADR_LANGUAGES}


@pytest.mark.parametrize("lang", XQUADR_LANGUAGES)
def test_known_entries_multi_word_kept_and_qualifiers_stripped(cldr_lexicons, lang):
    lex = cldr_lexicons[lang]
    united_states, germany, myanmar = KNOWN[lang]
    assert lex["united states"][0] == united_states          # a multi-word source kept whole
    assert lex["germany"][0] == germany
    assert lex["myanmar"][0] == myanmar                      # "Myanmar (Burma)" -> "myanmar"
    assert "myanmar (burma)" not in lex
    assert "cocos islands" in lex                            # "Cocos (Keeling) Islands"
    assert all("(" not in s and "(" not in t and "（" not in t for s, t in lex.pairs())
    assert all(s == s.lower() and t == t.lower() for s, t in lex.pairs())
    assert 1000 < len(lex) < 2000
    assert sum(" " in s for s in lex.entries) / len(lex) > 0.3


def test_filters_are_the_wikititles_ones(cldr_lexicons):
    de = cldr_lexicons["de"]
    assert max(s.count(" ") for s in de.entries) == 2          # max_words = 3
    assert max(s.count(" ") for s in read_cldr("en", "de", max_words=1).entries) == 0
    assert "common" not in de and "gold" not in de             # non-entity codes (Zyyy, XAU) left out
    # single-word stopword sources are dropped, as for Wikipedia titles; phrases keep them
    languages = read_cldr("en", "de", kinds=["languages"], stopwords=frozenset({"german"}))
    assert "german" not in languages and "swiss high german" in languages
    assert cldr_names("en", "territories")["US"] == "United States"


def test_kinds_select_the_tables():
    territories = read_cldr("en", "de", kinds=["territories"])
    assert "united states" in territories and "german" not in territories
    assert read_cldr("en", "de", kinds=["languages"])["german"] == ["deutsch"]
    assert read_cldr("en", "de", kinds=["currencies"])["euro"] == ["euro"]
    assert read_cldr("en", "de", kinds=["scripts"])["cyrillic"] == ["kyrillisch"]
    assert parse_kinds(" territories,scripts,territories ") == ("territories", "scripts")
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \['towns'\]; known: territories"):
        parse_kinds("territories,towns")
    with pytest.raises(ValueError, match="unknown kind"):
        read_cldr("en", "de", kinds=["towns"])
    with pytest.raises(ValueError, match="no locale 'xx'"):
        read_cldr("en", "xx")
    assert set(KINDS) == {"territories", "languages", "currencies", "scripts"}


def _switch(tokenizer, lexicon: Lexicon, text: str) -> tuple[str, list[int]]:
    """``text`` switched at p = 1.0 (decoded) and the source units its switched tokens come from
    (a phrase's translation carries the index of the phrase's first unit)."""
    from xcs.switching.compiled_lexicon import CompiledLexicon
    from xcs.switching.switcher import CodeSwitcher

    compiled = CompiledLexicon.compile(lexicon, tokenizer)
    assert compiled.max_units > 1                            # a phrase lexicon
    switcher = CodeSwitcher(tokenizer, {lexicon.tgt_lang: compiled}, p=1.0, seed=0)
    out = switcher(tokenizer([text])["input_ids"], return_provenance=True)
    units = sorted({w for w, s in zip(out["word_index"][0], out["switched"][0], strict=True) if s})
    return tokenizer.decode(out["input_ids"][0], skip_special_tokens=True), units


@pytest.mark.parametrize("lang", XQUADR_LANGUAGES)
def test_longest_match_switches_united_states_army(e5_tokenizer, cldr_lexicons, lang):
    text, units = _switch(e5_tokenizer, cldr_lexicons[lang], "United States Army")
    assert text.casefold() == f"{KNOWN[lang][0]} Army".casefold()   # "Vereinigte Staaten Army"
    assert units == [1]                      # one switch, at unit 1 (after <s>): the phrase, not "Army"


def test_phrase_beats_words_and_the_trigram_beats_the_phrase(e5_tokenizer, cldr_lexicons):
    words = {"united": ["vereint"], "states": ["länder"], "army": ["armee"]}
    lex = Lexicon.from_pairs([*cldr_lexicons["de"].pairs(),
                              *((s, t) for s, ts in words.items() for t in ts)], "en", "de")
    assert _switch(e5_tokenizer, lex, "United States Army")[0] == "Vereinigte Staaten Armee"
    lex.add("united states army", "us-armee")
    assert _switch(e5_tokenizer, lex, "the United States Army")[0].casefold() == "the us-armee"


def test_cli_builds_the_lexicon(tmp_path, capsys):
    out = tmp_path / "en-de.tsv"
    assert main(["lexicon", "build", "--source", "cldr", "--src-lang", "en", "--tgt-lang", "de",
                 "--kinds", "territories", "--out", str(out)]) == 0
    lex = Lexicon.load(out, "en", "de")
    assert lex["united states"] == ["vereinigte staaten"] and "german" not in lex
    assert "en-de entries" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--src-lang", "en", "--tgt-lang", "de", "--kinds", "towns"], "argument --kinds: unknown kind"),
    (["--tgt-lang", "de"], "--source cldr needs --src-lang and --tgt-lang"),
    (["--src-lang", "en", "--tgt-lang", "xx"], "--tgt-lang xx: CLDR (babel) has no locale 'xx'"),
])
def test_cli_errors_name_the_flag(tmp_path, capsys, argv, message):
    assert _run(["lexicon", "build", "--source", "cldr", *argv, "--out", str(tmp_path / "x.tsv")]) != 0
    assert message in capsys.readouterr().err


def test_kinds_belongs_to_the_cldr_source(tmp_path, capsys):
    muse = tmp_path / "en-de.txt"
    muse.write_text("cat\tkatze\n", encoding="utf-8")
    assert _run(["lexicon", "build", "--source", "muse", "--input", str(muse), "--src-lang", "en",
                 "--tgt-lang", "de", "--kinds", "scripts", "--out", str(tmp_path / "x.tsv")]) != 0
    assert "--kinds is an option of --source cldr, not --source muse" in capsys.readouterr().err


def test_method_lexicon_list_merges_muse_and_entities(tmp_path, data_dir):
    from xcs.switching.recipe import SwitchingRecipe

    read_cldr("en", "de").save(tmp_path / "en-de.tsv")
    recipe = SwitchingRecipe(languages=["de"], lexicon=["muse", str(tmp_path / "en-{lang}.tsv")])
    merged = recipe.load_lexicons(data_dir)["de"]
    muse = SwitchingRecipe(languages=["de"]).load_lexicons(data_dir)["de"]
    assert merged["united states"] == ["vereinigte staaten"]
    assert merged["house"] == muse["house"]
    assert merged["germany"][0] == muse["germany"][0]        # MUSE first, as listed
    assert len(merged) > len(muse)
    with pytest.raises(FileNotFoundError, match="lexicon en->ar not found"):
        recipe.load_lexicons(data_dir, ["ar"])
    with pytest.raises(ValueError, match="lexicon"):
        SwitchingRecipe(languages=["de"], lexicon=[])


def _run(argv: list[str]) -> int:
    """``xcs`` exit status, also for argparse's errors (which exit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
