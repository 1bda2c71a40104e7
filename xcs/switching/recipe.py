"""A code-switching recipe: which texts are switched, into which languages, how often, with which
lexicons and how carefully; one typed object that ``xcs train``, the experiment's methods, the
integrations' examples and the docs all build their switchers from.

    recipe = SwitchingRecipe(languages=["de", "ar", "ru", "zh"], p=0.5)     # ML-CS, both sides
    lexicons = recipe.load_lexicons("../shared/data")                        # {lang: Lexicon}
    switchers = recipe.switchers(tokenizer, lexicons, seed=0)                # {"query": ..., "document": ...}
    collator = recipe.collator(tokenizer, lexicons, seed=0)                  # a CodeSwitchCollator

A recipe with no language switches nothing (English only). In an experiment config its fields are
keys of a ``[methods.NAME]`` table, next to the method's own (``strategy``, ``train``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.schema import STRICT, LanguageCode, Probability

if TYPE_CHECKING:
    from xcs.lexicons.lexicon import Lexicon
    from xcs.switching.collator import CodeSwitchCollator
    from xcs.switching.compiled_lexicon import CompiledLexicon
    from xcs.switching.switcher import CodeSwitcher

Side = Literal["both", "query", "document"]
LanguageUnit = Literal["word", "example"]
LexiconSpec = Annotated[str, Field(min_length=1)]  # "muse" or a path template

# Recipe options added after runs were recorded, with the behaviour those runs had (translations as
# the lexicon writes them, no stopword or name protection, every pair switched)
LEGACY_RECIPE_VALUES: dict[str, Any] = {"keep_case": False, "skip_stopwords": False, "protect_names": False,
                                        "language_per": "word", "example_p": 1.0,
                                        "shuffle_translations": False}
# Options only a switcher reads: a model that reads lexicons without switching (translate-test) or
# switches nothing is the same whatever they say.
SWITCHER_ONLY_FIELDS = frozenset({"keep_case", "skip_stopwords", "protect_names", "language_per",
                                  "example_p", "shuffle_translations"})


@pydantic_dataclass(config=STRICT)
class SwitchingRecipe:
    """How training texts are code-switched (the paper's BL-CS, ML-CS and Wiki-CS, and variants).

    ``languages`` are the targets of both sides; ``query_languages`` / ``document_languages``
    override them per side (the paper switches each side into its own language for a bilingual
    pair). ``sides`` restricts switching to one side. One language gives bilingual switching,
    several multilingual switching with draws weighted by ``weights`` (uniform when empty; one
    weight per language of every side that has several): a language per word (``language_per =
    "word"``, ML-CS), or one per training example, shared by its query and documents (``"example"``,
    Wiki-CS). ``p`` is the switch rate, constant or rising linearly from ``p_start`` over training.
    ``example_p < 1`` switches only that share of the training pairs (the others stay English).

    ``lexicon`` is ``"muse"`` (``DATA/muse/en-XX.txt``) or a path template with ``{lang}`` (or
    ``{src}``, ``{tgt}``; ``~`` expanded), or a list of these, merged per language in list order;
    ``lowercase`` and ``max_candidates`` say how each file is read, ``shuffle_translations = True``
    turns it into the noise control (:func:`xcs.lexicons.filters.shuffle_translations`: right script
    and token statistics, wrong meaning). ``keep_case``, ``skip_stopwords`` and ``protect_names``
    are the switchers' quality options (:class:`~xcs.switching.switcher.CodeSwitcher`).

    Fields are type-checked without coercion and range-checked (pydantic strict mode).
    """

    languages: list[LanguageCode] = field(default_factory=list)
    query_languages: list[LanguageCode] | None = None
    document_languages: list[LanguageCode] | None = None
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = field(default_factory=list)
    sides: Side = "both"
    language_per: LanguageUnit = "word"
    example_p: Probability = 1.0
    p: Probability = 0.5
    p_start: Probability | None = None
    lexicon: LexiconSpec | Annotated[list[LexiconSpec], Field(min_length=1)] = "muse"
    lowercase: bool = True
    keep_case: bool = True
    skip_stopwords: bool = False
    protect_names: bool = False
    max_candidates: Annotated[int, Field(ge=1)] | None = 10
    shuffle_translations: bool = False

    def __post_init__(self) -> None:
        if self.weights:
            # one weight per language of every side that switches multilingually (see switchers())
            for option, langs in (("languages", self.languages), ("query_languages", self.query_languages),
                                  ("document_languages", self.document_languages)):
                if langs is not None and len(langs) > 1 and len(langs) != len(self.weights):
                    raise ValueError(f"{len(self.weights)} weights for the {len(langs)} {option} "
                                     f"{list(langs)}; give one weight per language")
            if not sum(self.weights) > 0:
                raise ValueError(f"weights must have a positive sum, got {self.weights}")

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """The recipe's option names (the keys of a ``[methods.NAME]`` table that are the recipe's)."""
        return frozenset(f.name for f in fields(cls))

    # ------------------------------------------------------------------------------ what it switches
    def side_languages(self, side: str) -> list[str]:
        """Target languages of ``side`` (``"query"`` or ``"document"``); empty: left in English."""
        if self.sides not in ("both", side):
            return []
        override = self.query_languages if side == "query" else self.document_languages
        return list(override if override is not None else self.languages)

    @property
    def target_languages(self) -> list[str]:
        """Every language either side switches into, sorted (empty: the recipe switches nothing)."""
        return sorted(set(self.side_languages("query")) | set(self.side_languages("document")))

    @property
    def scheduled(self) -> bool:
        """Whether ``p`` changes over training (``p_start`` set and different from ``p``)."""
        return self.p_start is not None and self.p_start != self.p

    def p_at(self, step: int, total_steps: int) -> float:
        """Switch rate at optimizer step ``step`` (0-based): constant ``p``, or linear from
        ``p_start`` at step 0 to ``p`` at the last step."""
        if self.p_start is None or total_steps <= 1:
            return self.p
        return self.p_start + (self.p - self.p_start) * step / (total_steps - 1)

    # ------------------------------------------------------------------------------------ lexicons
    def lexicon_paths(self, src: str, tgt: str, data_dir: str | os.PathLike[str]) -> list[Path]:
        """The dictionary files of ``src -> tgt`` (MUSE under ``data_dir`` or the templates), in the
        order of ``lexicon``; a FileNotFoundError names a missing one."""
        paths = []
        for spec in [self.lexicon] if isinstance(self.lexicon, str) else self.lexicon:
            if spec == "muse":
                path = Path(data_dir) / "muse" / f"{src}-{tgt}.txt"
            else:
                path = Path(spec.format(lang=tgt if src == "en" else src, src=src, tgt=tgt)).expanduser()
            if not path.exists():
                raise FileNotFoundError(f"lexicon {src}->{tgt} not found at {path}")
            paths.append(path)
        return paths

    def load_lexicons(self, data_dir: str | os.PathLike[str], languages: Sequence[str] | None = None, *,
                      reverse: bool = False) -> dict[str, Lexicon]:
        """``{lang: Lexicon}`` for ``en -> lang`` (or ``lang -> en`` with ``reverse``) of ``languages``
        (default: :attr:`target_languages`); several files of one language are merged (candidates
        in file order, at most ``max_candidates``); with ``shuffle_translations``, the shuffled
        control of each."""
        from xcs.lexicons.filters import shuffle_translations
        from xcs.lexicons.lexicon import Lexicon

        out = {}
        for lang in self.target_languages if languages is None else languages:
            src, tgt = (lang, "en") if reverse else ("en", lang)
            parts = [Lexicon.load(path, src, tgt, lowercase=self.lowercase, drop_identical=True,
                                  max_candidates=self.max_candidates, on_error="skip")
                     for path in self.lexicon_paths(src, tgt, data_dir)]
            out[lang] = parts[0] if len(parts) == 1 else Lexicon.from_pairs(
                (pair for part in parts for pair in part.pairs()), src, tgt,
                max_candidates=self.max_candidates)
            if self.shuffle_translations:
                out[lang] = shuffle_translations(out[lang])
        return out

    # ---------------------------------------------------------------------------------- switchers
    def switchers(self, tokenizer: Any, lexicons: Mapping[str, Lexicon | CompiledLexicon],
                  seed: int = 0) -> dict[str, CodeSwitcher]:
        """The switcher of each side the recipe switches (``"query"`` / ``"document"``; none:
        English only), each lexicon compiled for ``tokenizer`` once and shared by both sides."""
        from xcs.switching.compiled_lexicon import CompiledLexicon
        from xcs.switching.switcher import CodeSwitcher

        missing = [lang for lang in self.target_languages if lang not in lexicons]
        if missing:
            raise ValueError(f"no lexicon given for {missing} (lexicons has {sorted(lexicons)})")
        compiled = {lang: lex if isinstance(lex, CompiledLexicon) else CompiledLexicon.compile(lex, tokenizer)
                    for lang, lex in lexicons.items() if lang in self.target_languages}
        switchers = {}
        for side in ("query", "document"):
            langs = self.side_languages(side)
            if not langs:
                continue
            options: dict[str, Any] = {"mode": "bilingual"}
            if len(langs) > 1:
                options = {"mode": "multilingual", "language_per": self.language_per}
                if self.weights:
                    options["language_weights"] = dict(zip(langs, self.weights, strict=True))
            switchers[side] = CodeSwitcher(tokenizer, {lang: compiled[lang] for lang in langs}, p=self.p,
                                           seed=seed, example_p=self.example_p, keep_case=self.keep_case,
                                           skip_stopwords=self.skip_stopwords,
                                           protect_names=self.protect_names, **options)
        return switchers

    def collator(self, tokenizer: Any, lexicons: Mapping[str, Lexicon | CompiledLexicon], seed: int = 0,
                 **options: Any) -> CodeSwitchCollator:
        """A :class:`~xcs.switching.collator.CodeSwitchCollator` with :meth:`switchers` on its query
        and document sides; ``options`` are the collator's (lengths, prefixes, ``return_originals``).
        Queries and documents of one example draw independently (the document switcher draws at a
        side-specific index offset)."""
        from xcs.switching.collator import CodeSwitchCollator

        switchers = self.switchers(tokenizer, lexicons, seed)
        return CodeSwitchCollator(tokenizer, switchers.get("query"), switchers.get("document"), **options)
