"""The string baselines, and token-for-token equality of xcs with ContrastiveMix for a fixed draw.

Where outputs must differ (documented in docs/codeswitch.md): ContrastiveMix splits on whitespace
only, so a word glued to punctuation ("begin?") is not found while xcs sees "begin" and "?"; xcs
matches a word as written, lowercased, capitalised or title-cased while ContrastiveMix lowercases
any spelling ("McDonald"); xcs drops translations containing special tokens (<unk>); and input ids
that are not the tokenizer's own segmentation of the text are re-segmented by ContrastiveMix.
The test below removes exactly those cases and compares everything else.
"""

from __future__ import annotations

import json
import re

import pytest

from xcs.comparisons.pipelines import ContrastiveMixPipeline, PaperPipeline
from xcs.lexicons.lexicon import Lexicon
from xcs.switching import rng
from xcs.switching.switcher import CodeSwitcher


def _muse_subset(path, tokenizer, limit):
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            src, tgt = line.rstrip("\n").split("\t")
            if " " in src or " " in tgt or src != src.lower():
                continue
            if tokenizer.unk_token_id in tokenizer(tgt, add_special_tokens=False)["input_ids"]:
                continue
            pairs.append((src, tgt))
            if len(pairs) >= limit:
                break
    return Lexicon.from_pairs(pairs, "en", "de")


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_xcs_equals_contrastivemix_for_a_fixed_draw(e5_tokenizer, data_dir, p):
    lexicon = _muse_subset(data_dir / "muse" / "en-de.txt", e5_tokenizer, 6000)
    squad = json.loads((data_dir / "squad" / "dev-v1.1.json").read_text("utf-8"))
    questions = [q["question"] for art in squad["data"][:3] for par in art["paragraphs"] for q in par["qas"]]
    texts = []
    for question in questions[:300]:
        words = re.sub(r"[^\w\s]", " ", question).split()
        # Keep spellings both pipelines look up the same way (lowercase or capitalised words).
        words = [w for w in words if w in (w.lower(), w.lower().capitalize())]
        if words:
            texts.append(" ".join(words))
    batch = e5_tokenizer(texts)["input_ids"]
    seed, epoch = 11, 2
    # the string pipelines write translations as the lexicon does: compare without keep_case
    switcher = CodeSwitcher(e5_tokenizer, {"de": lexicon}, p=p, seed=seed, keep_case=False)
    # Word i of ContrastiveMix is unit i + 1 of xcs (unit 0 is <s>).
    mix = ContrastiveMixPipeline(
        e5_tokenizer, lexicon, draw=lambda ex, word, m: rng.choose(seed, epoch, ex, word + 1, p, m)
    )
    ours = switcher(batch, epoch=epoch, return_provenance=True)
    assert ours["input_ids"] == mix(batch)
    n_switched = sum(max(row) for row in ours["switched"])
    assert n_switched > len(batch) // 4  # the comparison covers many switched sentences


def test_contrastivemix_keeps_specials_and_unknown_words(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("cat", "Katze")], "en", "de")
    ids = e5_tokenizer(["my cat sleeps"])["input_ids"]
    out = ContrastiveMixPipeline(e5_tokenizer, lexicon, p=1.0)(ids)
    assert out == e5_tokenizer(["my Katze sleeps"])["input_ids"]
    assert ContrastiveMixPipeline(e5_tokenizer, lexicon, p=0.0)(ids) == ids


def test_paper_pipeline(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("cat", "Katze"), ("house", "Haus"), ("the", "das")], "en", "de")
    text = ["The cat left the house, didn't it?"]
    switched = PaperPipeline(e5_tokenizer, lexicon, p=1.0)(text)
    assert e5_tokenizer.decode(switched[0], skip_special_tokens=True) == "das Katze left das Haus, didn't it?"
    unchanged = PaperPipeline(e5_tokenizer, lexicon, p=0.0)(text)
    assert unchanged == e5_tokenizer(text)["input_ids"]
    # For a deterministic draw (p=1, one candidate), xcs switches the same words.
    switcher = CodeSwitcher(e5_tokenizer, {"de": lexicon}, p=1.0, keep_case=False)
    ours = switcher(e5_tokenizer(text)["input_ids"])
    assert ours == switched
