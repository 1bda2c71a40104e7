"""The training methods the experiment compares.

A :class:`Method` is one row of the comparison: a strategy (what kind of row it is: see
:mod:`xcs.experiment.strategies`), a :class:`~xcs.switching.recipe.SwitchingRecipe` (which texts get
code-switched, into which languages, how often, from which lexicons) and the options of its strategy.
``strategy = "zero-shot"`` is the English-only baseline; ``"translate-test"`` needs no training (see
:mod:`xcs.models.translate_test`); ``"off-the-shelf"`` evaluates the untouched model; ``"rerank"``
trains the cross-encoder reranker; ``"interpolate"`` evaluates WiSE-FT weights
``(1 - alpha) * theta_0 + alpha * theta`` of the untouched model and the model another method
(``base``) trained at the same seed (an alpha sweep costs evaluations only).

A ``[methods.NAME]`` table is flat: the recipe's keys sit next to the method's own, and
:meth:`Method.from_dict` sorts them (the recipe's field names decide which are which).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, field, fields
from typing import Annotated, Any

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.experiment.strategies import STRATEGIES, Strategy
from xcs.schema import STRICT, Probability
from xcs.switching.recipe import LEGACY_RECIPE_VALUES, SwitchingRecipe

# Method options added after runs were recorded, with the value that reproduces those runs
LEGACY_METHOD_VALUES: dict[str, Any] = {**LEGACY_RECIPE_VALUES, "base": None, "alpha": 1.0, "evaluate": True,
                                        "control": None}


def strategies_reading(option: str) -> tuple[str, ...]:
    """The strategies that read ``option`` (empty: every strategy reads it). An option set for
    another strategy would train (or evaluate) the same model under different names, so a config
    table that sets it there is refused."""
    return tuple(s.name for s in STRATEGIES.values() if option in s.options)


@pydantic_dataclass(config=STRICT)
class Method:
    """One row of the comparison (one model per seed).

    ``recipe`` says how the training texts are code-switched (read only by the strategies that
    switch or read lexicons: ``code-switch``, ``rerank``, ``translate-test``). ``train`` overrides
    fields of the experiment's ``TrainConfig`` for this method only (e.g. ``align_weight``, the
    contrastive alignment term). ``strategy = "rerank"`` trains a cross-encoder with code-switching
    on both sides and reranks the baseline dual encoder's top ``rerank_k``. ``strategy =
    "interpolate"`` mixes the weights of the method ``base``'s model (same seed) with the untouched
    model's, ``alpha`` the weight of the fine-tuned one. ``evaluate = false`` only trains a method
    (for the interpolations built on its model): it has no row of its own. ``control`` names the
    row this one is tested against (default: the config's ``baseline``), e.g. the English-only twin
    of a code-switched model; it changes the summary only, never the run.

    Fields are type-checked without coercion and range-checked (pydantic strict mode, as
    :class:`~xcs.training.config.TrainConfig`).
    """

    name: str
    strategy: str = "code-switch"  # a name in xcs.experiment.strategies.STRATEGIES
    recipe: SwitchingRecipe = field(default_factory=SwitchingRecipe)
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
        recipe = self.recipe
        per_side = strategy.per_side_languages and (recipe.query_languages or recipe.document_languages)
        if strategy.needs_languages and not (recipe.languages or per_side):
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

    @classmethod
    def from_dict(cls, name: str, values: Mapping[str, Any]) -> Method:
        """The method of a flat ``[methods.NAME]`` table: the recipe's keys become its ``recipe``.
        ``align_weight`` (a ``[train]`` field that old configs set in the method table) moves into
        the method's ``train``."""
        values = dict(values)
        if "align_weight" in values:  # configs written before align_weight lived in [train] only
            weight = values.pop("align_weight")
            train = dict(values.get("train", {}))
            if "align_weight" in train:
                raise ValueError(f"method {name!r}: align_weight is set twice (in the table and in its "
                                 "train table); keep the train one")
            values["train"] = {**train, "align_weight": weight}
        recipe_keys = SwitchingRecipe.field_names()
        known = ({f.name for f in fields(cls)} - {"name", "recipe"}) | recipe_keys
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"method {name!r}: unknown option(s) {unknown}; known: {sorted(known)}")
        strategy = values.get("strategy", "code-switch")
        for option in values:
            strategies = strategies_reading(option)
            if strategies and strategy not in strategies:
                raise ValueError(f"method {name!r}: {option!r} (or {option}_sweep) is for strategy = "
                                 f"{' / '.join(map(repr, strategies))}; a {strategy!r} method ignores it")
        recipe = SwitchingRecipe(**{k: v for k, v in values.items() if k in recipe_keys})
        return cls(name=name, recipe=recipe, **{k: v for k, v in values.items() if k not in recipe_keys})

    def record(self) -> dict[str, Any]:
        """The flat form of the method (its config table with every default filled in): what
        ``run.json`` records and :meth:`from_dict` reads back."""
        own = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "recipe"}
        return {**own, **asdict(self.recipe)}

    @property
    def trains(self) -> bool:
        """Whether this method fine-tunes a model (translate-test and off-the-shelf reuse one)."""
        return STRATEGIES[self.strategy].trains

    @property
    def switching(self) -> SwitchingRecipe | None:
        """The recipe its training texts are switched with: None for a strategy that does not
        code-switch (English only)."""
        return self.recipe if STRATEGIES[self.strategy].switches else None

    def side_languages(self, side: str) -> list[str]:
        """Target languages of ``side`` (``"query"`` or ``"document"``) in training; empty: left in
        English (always, for a strategy that does not code-switch)."""
        return [] if self.switching is None else self.switching.side_languages(side)

    @property
    def switch_languages(self) -> list[str]:
        """Every language its training switches into, sorted (empty: English only)."""
        return [] if self.switching is None else self.switching.target_languages


def strategy_of(method: Method) -> Strategy:
    """The registered strategy of ``method``."""
    return STRATEGIES[method.strategy]


def legacy_method_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``run.json`` ``method`` written by an older xcs, in today's flat form: ``kind`` renamed
    ``strategy``, options added since with the value those runs had, ``align_weight`` moved into
    ``train`` (where its training config also records it)."""
    out = {**LEGACY_METHOD_VALUES, **{("strategy" if k == "kind" else k): v for k, v in record.items()}}
    weight = out.pop("align_weight", 0.0)
    if weight:
        out["train"] = {**out.get("train", {}), "align_weight": weight}
    return out
