"""Per language: size of the CLDR entity lexicon and how much of the training data it can switch.

Coverage = share of the SQuAD v1.1 dev training questions (and, separately, of their distinct
answer sentences) in which a switcher at p = 1.0 with the compiled lexicon switches at least one
word; "words switched" = switched word units / all word units of those texts. Prints a Markdown
table (the one in docs/lexicons.md)::

    .venv/bin/python docs/cldr_coverage.py
    .venv/bin/python docs/cldr_coverage.py --kinds territories,languages
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from xcs.io.paths import data_dir
from xcs.lexicons.cldr import KINDS, parse_kinds, read_cldr
from xcs.lexicons.lexicon import Lexicon

LANGUAGES = ("ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh")


def coverage(tokenizer, lexicon: Lexicon, texts: Sequence[str]) -> tuple[float, float]:
    """(share of ``texts`` with a switch, share of word units switched) at p = 1.0."""
    from xcs.switching.compiled_lexicon import CompiledLexicon
    from xcs.switching.switcher import CodeSwitcher

    compiled = CompiledLexicon.compile(lexicon, tokenizer, cache=False)
    switcher = CodeSwitcher(tokenizer, {lexicon.tgt_lang: compiled}, p=1.0, seed=0)
    ids = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    out = switcher(ids, return_provenance=True)
    hit = units = switched = 0
    for word_index, flags in zip(out["word_index"], out["switched"], strict=True):
        word_index, flags = np.asarray(word_index), np.asarray(flags, dtype=bool)
        hit += bool(flags.any())
        units += len(np.unique(word_index))
        switched += len(np.unique(word_index[flags]))
    return hit / len(texts), switched / units


def main(argv: Sequence[str] | None = None) -> None:
    """Print the per-language table."""
    from xcs.experiment.data import training_pairs
    from xcs.models import load_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kinds", type=parse_kinds, default=KINDS)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--data-dir", help="shared data directory (default: $XCS_DATA_DIR or ../shared/data)")
    args = parser.parse_args(argv)
    pairs = training_pairs(data_dir(args.data_dir), {})
    questions = [p.query for p in pairs]
    sentences = list(dict.fromkeys(p.positive for p in pairs))
    tokenizer = load_tokenizer()
    print(f"kinds: {','.join(args.kinds)}; {len(questions)} questions, {len(sentences)} distinct "
          "answer sentences (SQuAD v1.1 dev minus XQuAD)\n")
    print("| en→ | entries | multi-word | questions with a switch | answer sentences with a switch "
          "| words switched (q / s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for lang in args.languages.split(","):
        lex = read_cldr("en", lang, kinds=args.kinds)
        multi = sum(" " in s for s in lex.entries) / len(lex)
        q_hit, q_units = coverage(tokenizer, lex, questions)
        s_hit, s_units = coverage(tokenizer, lex, sentences)
        print(f"| {lang} | {len(lex):,} | {multi:.1%} | {q_hit:.1%} | {s_hit:.1%} "
              f"| {q_units:.2%} / {s_units:.2%} |")


if __name__ == "__main__":
    main()
