"""``xcs lexicon build|eval``: build a lexicon from any source, or measure one against a gold dictionary.

Examples::

    xcs lexicon build --source encoder --src-lang en --tgt-lang de --vocab-size 20000 --out en-de.tsv
    xcs lexicon build --source muse --src-lang en --tgt-lang de --target-script --out en-de.muse.tsv
    xcs lexicon build --source wikititles --input wikititles-2014_ende.xml.gz --out en-de.titles.tsv
    xcs lexicon build --source cldr --src-lang en --tgt-lang de --kinds territories,languages \\
        --out en-de.cldr.tsv
    xcs lexicon build --source vectors --src-vectors wiki.en.vec --tgt-vectors wiki.de.vec \\
        --seed xling/en-de.train.freq.5k.tsv --refine 1 --src-lang en --tgt-lang de --out en-de.tsv
    xcs lexicon build --source pivot --first ar-en.txt --second en-it.txt --src-lang ar \\
        --pivot-lang en --tgt-lang it --max-candidates 5 --out ar-it.tsv
    xcs lexicon eval en-de.tsv --gold ../shared/data/muse/en-de.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from xcs.cli.arguments import non_negative_int, positive_int

SOURCES = ("muse", "wikititles", "cldr", "vectors", "encoder", "pivot")
# ``lexicon build`` options that only some sources read (dest -> those sources); given with another
# --source (set to anything but its default) they are refused, never ignored. The others (--src-lang,
# --tgt-lang, --out, the filters) apply to every source.
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "input": ("muse", "wikititles"), "data_dir": ("muse", "vectors"), "lowercase": ("muse", "pivot"),
    "max_words": ("wikititles", "cldr"), "include_redirects": ("wikititles",), "kinds": ("cldr",),
    "src_vectors": ("vectors",), "tgt_vectors": ("vectors",), "max_vocab": ("vectors",),
    "no_align": ("vectors",), "seed": ("vectors", "encoder"), "refine": ("vectors", "encoder"),
    "vocab_size": ("vectors", "encoder"), "tgt_vocab_size": ("vectors", "encoder"),
    "method": ("vectors", "encoder"), "k": ("vectors", "encoder"), "mutual": ("vectors", "encoder"),
    "model": ("encoder",), "layer": ("encoder",), "exclude_identical": ("encoder",),
    "first": ("pivot",), "second": ("pivot",), "pivot_lang": ("pivot",), "max_per_pivot": ("pivot",),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lexicon", help="build bilingual lexicons and measure their quality")
    sub = parser.add_subparsers(dest="lexicon_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)

    build = sub.add_parser("build", help="build a lexicon and write it as source<TAB>target lines")
    build.add_argument("--source", required=True, choices=SOURCES)
    build.add_argument("--out", required=True, type=Path, help="output .tsv (or .tsv.gz); a new file")
    build.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    build.add_argument("--src-lang", help="source language code (e.g. en)")
    build.add_argument("--tgt-lang", help="target language code (e.g. de)")
    build.add_argument("--input", type=Path,
                       help="muse: dictionary file (default DATA/muse/SRC-TGT.txt); wikititles: XML file")
    build.add_argument("--data-dir", help="shared data directory (default: $XCS_DATA_DIR or ../shared/data)")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    # wikititles
    build.add_argument("--max-words", type=positive_int, default=3,
                       help="wikititles/cldr: longest title or name kept, in words")
    build.add_argument("--include-redirects", action="store_true", help="wikititles: pair redirects too")
    build.add_argument("--kinds", type=_kinds, default=None,
                       help="cldr: comma-separated CLDR name tables (default: all of "
                            "territories,languages,currencies,scripts)")
    # vectors / encoder induction
    build.add_argument("--src-vectors", type=Path, help="vectors: source .vec file")
    build.add_argument("--tgt-vectors", type=Path, help="vectors: target .vec file")
    build.add_argument("--max-vocab", type=positive_int, default=200000,
                       help="vectors: words read per .vec file")
    build.add_argument("--seed", type=Path,
                       help="vectors: seed dictionary for Procrustes (default "
                            "DATA/xling/SRC-TGT.train.freq.5k.tsv); encoder: align with it first (optional)")
    build.add_argument("--no-align", action="store_true", help="vectors: the spaces are already aligned")
    build.add_argument("--refine", type=non_negative_int, default=0,
                       help="vectors/encoder: mutual-NN refinement rounds")
    build.add_argument("--vocab-size", type=positive_int, default=20000,
                       help="vectors/encoder: source words translated (most frequent first)")
    build.add_argument("--tgt-vocab-size", type=positive_int,
                       help="encoder/vectors: target words searched (default: --vocab-size / --max-vocab)")
    build.add_argument("--model", default="default", help="encoder: model name or checkpoint path")
    build.add_argument("--layer", type=int, help="encoder: hidden layer to average (default: 7)")
    build.add_argument("--method", choices=("csls", "nn"), default="csls", help="retrieval criterion")
    build.add_argument("--k", type=positive_int, default=1, help="candidates per source word")
    build.add_argument("--mutual", action="store_true", help="keep mutual nearest neighbours only")
    build.add_argument("--exclude-identical", action="store_true",
                       help="encoder: return the best candidate spelled differently from the source")
    # pivot
    build.add_argument("--first", type=Path, help="pivot: SRC->PIVOT dictionary")
    build.add_argument("--second", type=Path, help="pivot: PIVOT->TGT dictionary")
    build.add_argument("--pivot-lang", default="en", help="pivot: the pivot language (default en)")
    build.add_argument("--max-per-pivot", type=positive_int, help="pivot: targets one pivot word contributes")
    # filters
    build.add_argument("--lowercase", action="store_true", help="lowercase dictionary files when reading")
    build.add_argument("--drop-identical", action="store_true",
                       help="drop pairs whose target equals the source")
    build.add_argument("--target-script", action="store_true",
                       help="keep targets written in the target language's script")
    build.add_argument("--strip-marks", action="store_true",
                       help="strip Arabic short vowels and the Russian stress mark (U+0301)")
    build.add_argument("--top-sources", type=positive_int,
                       help="keep the N most frequent source words (wordfreq)")
    build.add_argument("--max-candidates", type=positive_int, help="keep at most N targets per source")
    build.set_defaults(func=run_build, source_option_defaults={
        action.dest: action.default for action in build._actions if action.dest in SOURCE_OPTIONS})

    ev = sub.add_parser("eval", help="coverage of frequent source words, P@1/P@5 against a gold dictionary")
    ev.add_argument("lexicon", type=Path, help="source<TAB>target file to evaluate")
    ev.add_argument("--gold", type=Path, help="gold dictionary (e.g. DATA/muse/en-de.txt)")
    ev.add_argument("--src-lang", help="source language (default: from a NAME like en-de.tsv)")
    ev.add_argument("--tgt-lang", help="target language (default: from the file name)")
    ev.add_argument("--top", type=int, nargs="+", default=[5000, 20000], help="coverage of the top-N words")
    ev.add_argument("--restrict-to-top", type=positive_int,
                    help="measure P@k only on the N most frequent source words")
    ev.add_argument("--json", action="store_true", help="print JSON instead of text")
    ev.set_defaults(func=run_eval)


def run_build(args: argparse.Namespace) -> int:
    from xcs.io.paths import output_file
    from xcs.lexicons import filters

    _check_source_options(args)
    # before the lexicon is built: never an existing file without --overwrite, never an input
    output_file(args.out, "--out", overwrite=args.overwrite,
                inputs=[(f"--{name.replace('_', '-')}", getattr(args, name))
                        for name in ("input", "seed", "src_vectors", "tgt_vectors", "first", "second")])
    lex = _build(args)
    if args.strip_marks:
        lex = filters.normalize_marks(lex)
    if args.drop_identical:
        lex = filters.drop_identical(lex)
    if args.target_script:
        lex = filters.keep_target_script(lex)
    if args.top_sources:
        lex = filters.keep_frequent_sources(lex, args.top_sources)
    if args.max_candidates:
        lex = filters.cap_candidates(lex, args.max_candidates)
    lex.save(args.out)
    n_pairs = sum(len(t) for t in lex.entries.values())
    print(f"wrote {args.out}: {len(lex)} {lex.src_lang}-{lex.tgt_lang} entries, {n_pairs} pairs",
          file=sys.stderr)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from xcs.lexicons.lexicon import Lexicon
    from xcs.lexicons.quality import evaluate_lexicon

    src, tgt = args.src_lang, args.tgt_lang
    if src is None or tgt is None:
        guessed = _languages_from_name(args.lexicon)
        if guessed is None and args.gold is not None:
            guessed = _languages_from_name(args.gold)
        if guessed is None:
            raise ValueError(f"{args.lexicon}: pass --src-lang and --tgt-lang (not in the file name)")
        src, tgt = src or guessed[0], tgt or guessed[1]
    lex = Lexicon.load(args.lexicon, src, tgt)
    gold = Lexicon.load(args.gold, src, tgt, on_error="skip") if args.gold else None
    quality = evaluate_lexicon(lex, gold, top_words=args.top, restrict_to_top=args.restrict_to_top)
    print(json.dumps(quality.as_dict(), indent=2) if args.json else quality.format())
    return 0


def _build(args: argparse.Namespace):
    from xcs.lexicons.lexicon import Lexicon

    progress = not args.quiet
    if args.source == "muse":
        src, tgt = _require_langs(args)
        path = args.input or _data_path(args, "muse", f"{src}-{tgt}.txt")
        return Lexicon.load(path, src, tgt, lowercase=args.lowercase, on_error="skip")
    if args.source == "wikititles":
        from xcs.lexicons.wikititles import read_wikititles

        if args.input is None:
            raise ValueError("--source wikititles needs --input wikititles-2014_XXYY.xml[.gz]")
        return read_wikititles(args.input, args.src_lang, args.tgt_lang, max_words=args.max_words,
                               include_redirects=args.include_redirects)
    if args.source == "cldr":
        from xcs.lexicons.cldr import KINDS, read_cldr

        src, tgt = _require_langs(args)
        try:
            return read_cldr(src, tgt, kinds=args.kinds or KINDS, max_words=args.max_words)
        except ValueError as exc:
            raise ValueError(f"--source cldr --src-lang {src} --tgt-lang {tgt}: {exc}") from None
    if args.source == "pivot":
        from xcs.lexicons.pivot import compose

        src, tgt = _require_langs(args)
        if args.first is None or args.second is None:
            raise ValueError("--source pivot needs --first SRC-PIVOT and --second PIVOT-TGT dictionaries")
        first = Lexicon.load(args.first, src, args.pivot_lang, lowercase=args.lowercase, on_error="skip")
        second = Lexicon.load(args.second, args.pivot_lang, tgt, lowercase=args.lowercase, on_error="skip")
        return compose(first, second, max_per_pivot=args.max_per_pivot, max_candidates=args.max_candidates)
    if args.source == "encoder":
        from xcs.lexicons.encoder_embeddings import DEFAULT_LAYER, induce_encoder_lexicon

        src, tgt = _require_langs(args)
        seed = Lexicon.load(args.seed, src, tgt, on_error="skip") if args.seed else None
        return induce_encoder_lexicon(
            src, tgt, vocab_size=args.vocab_size, tgt_vocab_size=args.tgt_vocab_size, model=args.model,
            layer=DEFAULT_LAYER if args.layer is None else args.layer, method=args.method, k=args.k,
            mutual=args.mutual, exclude_identical=args.exclude_identical, seed=seed,
            refine_iterations=args.refine, progress=progress,
        )
    return _build_from_vectors(args, progress)


def _build_from_vectors(args: argparse.Namespace, progress: bool):
    from xcs.lexicons.csls import induce_lexicon
    from xcs.lexicons.lexicon import Lexicon
    from xcs.lexicons.procrustes import align
    from xcs.lexicons.vectors import read_vec

    src, tgt = _require_langs(args)
    if args.src_vectors is None or args.tgt_vectors is None:
        raise ValueError("--source vectors needs --src-vectors and --tgt-vectors (.vec files)")
    src_vecs = read_vec(args.src_vectors, max_words=args.max_vocab, progress=progress)
    tgt_vecs = read_vec(args.tgt_vectors, max_words=args.tgt_vocab_size or args.max_vocab,
                        progress=progress)
    if not args.no_align:
        seed_path = args.seed or _data_path(args, "xling", f"{src}-{tgt}.train.freq.5k.tsv")
        seed = Lexicon.load(seed_path, src, tgt, on_error="skip")
        alignment = align(src_vecs, tgt_vecs, seed, refine_iterations=args.refine, progress=progress)
        print(f"Procrustes on {alignment.seed_pairs} seed pairs; refinement dictionaries: "
              f"{alignment.refined_pairs}", file=sys.stderr)
        src_vecs = alignment.map(src_vecs)
    n = min(args.vocab_size, len(src_vecs))
    return induce_lexicon(src_vecs.words[:n], src_vecs.vectors[:n], tgt_vecs.words, tgt_vecs.vectors,
                          src, tgt, k=args.k, method=args.method, mutual=args.mutual, progress=progress)


def _check_source_options(args: argparse.Namespace) -> None:
    """Refuse an option the chosen ``--source`` does not read (``--src-vectors`` with ``--source muse``,
    ``--seed`` / ``--refine`` with ``--no-align``): it would be ignored."""
    defaults = args.source_option_defaults
    given = [dest for dest in SOURCE_OPTIONS if getattr(args, dest) != defaults[dest]]
    for dest in given:
        if args.source not in SOURCE_OPTIONS[dest]:
            sources = " or ".join(f"--source {source}" for source in SOURCE_OPTIONS[dest])
            raise ValueError(f"--{dest.replace('_', '-')} is an option of {sources}, not --source "
                             f"{args.source} (it would be ignored)")
    if args.source == "vectors" and args.no_align:
        ignored = [f"--{dest.replace('_', '-')}" for dest in ("seed", "refine", "data_dir") if dest in given]
        if ignored:
            raise ValueError(f"{', '.join(ignored)}: options of the Procrustes alignment, which --no-align "
                             "skips (they would be ignored)")
    default_file = {"muse": "input", "vectors": "seed"}.get(args.source)
    if "data_dir" in given and default_file in given:
        raise ValueError(f"--data-dir: it only locates the default --{default_file}, which is given "
                         "(it would be ignored)")


def _kinds(text: str) -> tuple[str, ...]:
    """argparse type of ``--kinds``: the message names the flag and the known kinds."""
    from xcs.lexicons.cldr import parse_kinds

    try:
        return parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _require_langs(args: argparse.Namespace) -> tuple[str, str]:
    if not args.src_lang or not args.tgt_lang:
        raise ValueError(f"--source {args.source} needs --src-lang and --tgt-lang")
    return args.src_lang, args.tgt_lang


def _data_path(args: argparse.Namespace, folder: str, name: str) -> Path:
    from xcs.io.paths import data_dir

    path = data_dir(args.data_dir) / folder / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; pass the file explicitly")
    return path


def _languages_from_name(path: Path) -> tuple[str, str] | None:
    """``("en", "de")`` from names such as ``en-de.tsv`` or ``en-de.train.freq.5k.tsv``."""
    head = path.name.split(".", 1)[0]
    parts = head.split("-")
    if len(parts) == 2 and all(p.isalpha() and 2 <= len(p) <= 3 for p in parts):
        return parts[0], parts[1]
    return None
