"""The training methods the experiment compares.

A :class:`Method` says which texts get code-switched (queries, documents or both), into which
languages (one: BL-CS; several, drawn per word: ML-CS; a phrase lexicon: Wiki-CS), with which switch
rate ``p`` (constant, or rising linearly from ``p_start`` over training), and how strongly each text
is pulled towards its code-switched copy (``align_weight``, the contrastive alignment term).
``strategy = "zero-shot"`` is the English-only baseline; ``"translate-test"`` needs no training (see
:mod:`xcs.models.translate_test`); ``"off-the-shelf"`` evaluates the untouched model; ``"rerank"``
trains the cross-encoder reranker; ``"interpolate"`` evaluates WiSE-FT weights
``(1 - alpha) * theta_0 + alpha * theta`` of the untouched model and the model another method
(``base``) trained at the same seed (an alpha sweep costs evaluations only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.experiment.strategies import STRATEGIES
from xcs.training.config import STRICT

Side = Literal["both", "query", "document"]
LanguageUnit = Literal["word", "example"]
# ISO 639-1 (or -3) codes as the data files name them: "de", "zh", "ast"
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
# a probability or mixing weight in [0, 1] (NaN and infinity refused); the command line checks
# ``xcs model interpolate --alpha`` with this same type (xcs.cli.arguments.probability)
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
# Options added after runs were recorded, with the behaviour those runs had (translations as the
# lexicon writes them, no stopword or name protection); see xcs.training.config.LEGACY_TRAIN_VALUES
LEGACY_METHOD_VALUES: dict[str, Any] = {"keep_case": False, "skip_stopwords": False, "protect_names": False,
                                        "language_per": "word", "example_p": 1.0, "base": None,
                                        "alpha": 1.0, "evaluate": True, "control": None,
                                        "shuffle_translations": False}
LexiconSpec = Annotated[str, Field(min_length=1)]  # "muse" or a path template


def strategies_reading(option: str) -> tuple[str, ...]:
    """The strategies that read ``option`` (empty: every strategy reads it). An option set for
    another strategy would train (or evaluate) the same model under different names, so a config
    table that sets it there is refused."""
    return tuple(s.name for s in STRATEGIES.values() if option in s.options)


@pydantic_dataclass(config=STRICT)
class Method:
    """One row of the comparison (one model per seed).

    ``languages`` are the code-switching targets of both sides; ``query_languages`` /
    ``document_languages`` override them per side (the paper switches each side into its own
    language for a bilingual pair). One language gives bilingual switching, several multilingual
    switching with draws weighted by ``weights`` (uniform when empty): a language per word
    (``language_per = "word"``, ML-CS), or one per training example, shared by its query and
    documents (``"example"``, the paper's Wiki-CS). ``example_p < 1`` switches only that share of
    the training pairs (hybrid batches; the others stay English on both sides). ``lexicon`` is
    ``"muse"`` (``DATA/muse/en-XX.txt``) or a path template containing ``{lang}`` (e.g. Wikipedia
    title or CLDR entity-name lexicons built by ``xcs lexicon build``; ``~`` is expanded), or a list
    of these, merged per language (a source's candidates in list order: ``["muse",
    "~/.cache/xcs/lexicons-cldr/en-{lang}.tsv"]`` is MUSE words plus entity phrases). ``train``
    overrides fields of the experiment's ``TrainConfig`` for this method only. ``keep_case``,
    ``skip_stopwords`` and ``protect_names`` are the switchers' switch-quality options (see
    :class:`~xcs.switching.switcher.CodeSwitcher`).
    ``strategy = "rerank"`` trains a cross-encoder with
    code-switching on both sides and reranks the baseline dual encoder's top ``rerank_k``.
    ``strategy = "interpolate"`` mixes the weights of the method ``base``'s model (same seed) with
    the untouched model's, ``alpha`` the weight of the fine-tuned one. ``evaluate = false`` only
    trains a method (for the interpolations built on its model): it has no row of its own.
    ``shuffle_translations = true`` trains on a control lexicon: each language's candidate lists
    permuted across the source words (:func:`xcs.lexicons.filters.shuffle_translations`), so the
    switched words have the right script and token statistics but the wrong meaning.
    ``control`` names the row this one is tested against (default: the config's ``baseline``), e.g.
    the English-only twin of a code-switched model, raw against raw and WiSE-FT against WiSE-FT; it
    changes the summary only, never the run.

    Fields are type-checked without coercion and range-checked (pydantic strict mode, as
    :class:`~xcs.training.config.TrainConfig`).
    """

    name: str
    strategy: str = "code-switch"  # a name in xcs.experiment.strategies.STRATEGIES
    languages: list[LanguageCode] = field(default_factory=list)
    query_languages: list[LanguageCode] | None = None
    document_languages: list[LanguageCode] | None = None
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = field(default_factory=list)
    sides: Side = "both"
    language_per: LanguageUnit = "word"
    example_p: Probability = 1.0
    p: Probability = 0.5
    p_start: Probability | None = None
    align_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    lexicon: LexiconSpec | Annotated[list[LexiconSpec], Field(min_length=1)] = "muse"
    lowercase: bool = True
    keep_case: bool = True
    skip_stopwords: bool = False
    protect_names: bool = False
    max_candidates: Annotated[int, Field(ge=1)] | None = 10
    shuffle_translations: bool = False
    train: dict[str, Any] = field(default_factory=dict)
    rerank_k: Annotated[int, Field(ge=1)] = 20
    base: str | None = None
    alpha: Probability = 1.0
    evaluate: bool = True
    control: str | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"method {self.name!r}: unknown strategy {self.strategy!r}; one of "
                             f"{sorted(STRATEGIES)}")
        strategy = STRATEGIES[self.strategy]
        per_side = strategy.per_side_languages and (self.query_languages or self.document_languages)
        if strategy.needs_languages and not (self.languages or per_side):
            raise ValueError(f"method {self.name!r}: {self.strategy} needs 'languages'")
        if not self.evaluate and not self.trains:
            raise ValueError(f"method {self.name!r}: evaluate = false is for a method that trains a model "
                             f"(for an interpolation); {self.strategy!r} does not")
        interpolating = " / ".join(map(repr, strategies_reading("alpha")))
        if "alpha" not in strategy.options and self.alpha != 1.0:
            raise ValueError(f"method {self.name!r}: alpha is for strategy = {interpolating}; a "
                             f"{self.strategy!r} method ignores it")
        if strategy.interpolates != (self.base is not None):
            raise ValueError(f"method {self.name!r}: 'base' (the method whose model is interpolated) is "
                             f"for strategy = {interpolating}, which needs it")
        if self.weights:
            # one weight per language of every side that switches multilingually (see _make_switcher)
            for option, langs in (("languages", self.languages), ("query_languages", self.query_languages),
                                  ("document_languages", self.document_languages)):
                if langs is not None and len(langs) > 1 and len(langs) != len(self.weights):
                    raise ValueError(f"method {self.name!r}: {len(self.weights)} weights for the "
                                     f"{len(langs)} {option} {list(langs)}; give one weight per language")
            if not sum(self.weights) > 0:
                raise ValueError(f"method {self.name!r}: weights must have a positive sum, "
                                 f"got {self.weights}")

    @classmethod
    def from_dict(cls, name: str, values: Mapping[str, Any]) -> Method:
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"method {name!r}: unknown option(s) {unknown}; known: {sorted(known)}")
        strategy = values.get("strategy", "code-switch")
        for option in values:
            strategies = strategies_reading(option)
            if strategies and strategy not in strategies:
                raise ValueError(f"method {name!r}: {option!r} (or {option}_sweep) is for strategy = "
                                 f"{' / '.join(map(repr, strategies))}; a {strategy!r} method ignores it")
        return cls(name=name, **dict(values))

    @property
    def trains(self) -> bool:
        """Whether this method fine-tunes a model (translate-test and off-the-shelf reuse one)."""
        return STRATEGIES[self.strategy].trains

    def side_languages(self, side: str) -> list[str]:
        """Target languages of ``side`` (``"query"`` or ``"document"``); empty: left in English."""
        if not STRATEGIES[self.strategy].switches or self.sides not in ("both", side):
            return []
        override = self.query_languages if side == "query" else self.document_languages
        return list(override if override is not None else self.languages)

    def p_at(self, step: int, total_steps: int) -> float:
        """Switch rate at optimizer step ``step`` (0-based): constant ``p``, or linear from
        ``p_start`` at step 0 to ``p`` at the last step."""
        if self.p_start is None or total_steps <= 1:
            return self.p
        return self.p_start + (self.p - self.p_start) * step / (total_steps - 1)


# ------------------------------------------------------------------------------------ lexicons
def lexicon_paths(method: Method, src: str, tgt: str, data_dir: str | os.PathLike[str]) -> list[Path]:
    """The dictionary files of ``src -> tgt`` for ``method`` (MUSE under ``data_dir`` or templates),
    in the order of ``method.lexicon``."""
    paths = []
    for spec in [method.lexicon] if isinstance(method.lexicon, str) else method.lexicon:
        if spec == "muse":
            path = Path(data_dir) / "muse" / f"{src}-{tgt}.txt"
        else:
            path = Path(spec.format(lang=tgt if src == "en" else src, src=src, tgt=tgt)).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"method {method.name!r}: lexicon {src}->{tgt} not found at {path}")
        paths.append(path)
    return paths


def load_lexicons(method: Method, languages: Sequence[str], data_dir: str | os.PathLike[str], *,
                  reverse: bool = False) -> dict[str, Any]:
    """``{lang: Lexicon}`` for ``en -> lang`` (or ``lang -> en`` with ``reverse``); several files
    of one language are merged (candidates in file order, at most ``max_candidates``); with
    ``method.shuffle_translations``, the shuffled control of each."""
    from xcs.lexicons.filters import shuffle_translations
    from xcs.lexicons.lexicon import Lexicon

    out = {}
    for lang in languages:
        src, tgt = (lang, "en") if reverse else ("en", lang)
        parts = [Lexicon.load(path, src, tgt, lowercase=method.lowercase, drop_identical=True,
                              max_candidates=method.max_candidates, on_error="skip")
                 for path in lexicon_paths(method, src, tgt, data_dir)]
        out[lang] = parts[0] if len(parts) == 1 else Lexicon.from_pairs(
            (pair for part in parts for pair in part.pairs()), src, tgt,
            max_candidates=method.max_candidates)
        if method.shuffle_translations:
            out[lang] = shuffle_translations(out[lang])
    return out
