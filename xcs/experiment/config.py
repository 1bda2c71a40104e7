"""The experiment config: a TOML file parsed and checked at load time (errors name the file and key).

Layout: top-level ``name``, ``seeds``, ``model``, ``baseline``, ``reference`` (optional: a second
method every method is tested against, e.g. the untouched model), ``keep_models``, ``device``; tables
``[train]`` (fields of :class:`xcs.training.config.TrainConfig`), ``[data]``, ``[eval]`` (keyword
arguments of :func:`xcs.evaluation.suite.evaluate`, plus ``tasks`` and ``pairs``) and
``[methods.NAME]`` (fields of :class:`xcs.experiment.methods.Method`; ``p_sweep = [...]`` expands one
method into one per switch rate, named ``NAME@p=P``, and ``alpha_sweep`` one per WiSE-FT weight,
``NAME@alpha=A``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.data.options import DataOptions
from xcs.evaluation.protocol import ALL_TASKS, PAPER_PAIRS
from xcs.experiment.methods import Method, strategy_of
from xcs.schema import STRICT, LanguageCode, validation_message

if TYPE_CHECKING:
    from xcs.training.config import TrainConfig

_T = TypeVar("_T")
# Method fields a table may sweep: ``p_sweep = [...]`` -> methods ``NAME@p=P``
SWEPT_KEYS = ("p", "alpha")


@dataclass
class ExperimentConfig:
    """A parsed experiment config (see the module docstring for the TOML layout)."""

    name: str
    methods: dict[str, Method]
    seeds: list[int] = field(default_factory=lambda: [0])
    model: str = "default"
    baseline: str = "zero-shot"
    reference: str | None = None
    train: dict[str, Any] = field(default_factory=dict)  # merged with each method's own, then validated
    data: DataOptions = field(default_factory=lambda: DataOptions())
    eval: EvalOptions = field(default_factory=lambda: EvalOptions())
    keep_models: bool = True
    device: str = "auto"

    def train_config(self, method: Method, seed: int) -> TrainConfig:
        """The training settings of ``method`` at ``seed``: ``[train]``, overridden by the method's own
        ``train`` table, then ``seed``."""
        from xcs.training.config import TrainConfig

        return TrainConfig.from_dict({**self.train, **method.train, "seed": seed})

    def trained_steps(self) -> set[int]:
        """The numbers of optimizer steps the config's training methods take (one value when they
        train equally long; empty when no method trains)."""
        return {self.train_config(method, 0).steps for method in self.methods.values()
                if strategy_of(method).trains}

    def check_selection(self, seeds: Sequence[int] | None = None,
                        methods: Sequence[str] | None = None) -> None:
        """The runs to do now (``xcs experiment --seeds`` / ``--only``; None: every one): some of the
        config's seeds and method names, each once, at least one (an empty selection is refused, never
        read as "all"). Checked when the command line is read, before any run."""
        if seeds is not None:
            seeds = list(seeds)
            if not seeds:
                raise ValueError("--seeds: no seed given (omit --seeds for every seed of the config)")
            if len(set(seeds)) != len(seeds):
                raise ValueError(f"--seeds: {seeds} repeats a seed")
            unknown_seeds = sorted(set(seeds) - set(self.seeds))
            if unknown_seeds:
                raise ValueError(f"--seeds: {unknown_seeds} not among the config's seeds {self.seeds}")
        if methods is not None:
            methods = list(methods)
            if not methods:
                raise ValueError("--only: no method given (omit --only for every method of the config)")
            unknown = sorted(set(methods) - set(self.methods))
            if unknown:
                raise ValueError(f"--only: unknown method(s) {unknown}; known: {sorted(self.methods)}")

    @property
    def tasks(self) -> list[str]:
        """The evaluated tasks, aliases expanded, in the suite's order."""
        from xcs.evaluation.protocol import resolve_tasks

        return resolve_tasks(self.eval.tasks)

    @property
    def pairs(self) -> list[str]:
        return list(self.eval.pairs)


_TOP_LEVEL = {"name", "seeds", "model", "baseline", "reference", "train", "data", "eval", "methods",
              "keep_models", "device"}


@pydantic_dataclass(config=STRICT)
class TopLevel:
    """The config's top-level keys (types and ranges; see :class:`ExperimentConfig`)."""

    name: Annotated[str, Field(min_length=1)] | None = None
    seeds: Annotated[list[Annotated[int, Field(ge=0, lt=2**32)]], Field(min_length=1)] = field(
        default_factory=lambda: [0])
    model: Annotated[str, Field(min_length=1)] = "default"
    baseline: Annotated[str, Field(min_length=1)] = "zero-shot"
    reference: Annotated[str, Field(min_length=1)] | None = None
    keep_models: bool = True
    device: str = "auto"

    def __post_init__(self) -> None:
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds: {self.seeds} repeats a seed")


@pydantic_dataclass(config=STRICT)
class EvalOptions:
    """``[eval]``: ``tasks`` and ``pairs`` (read by the experiment), the rest keyword arguments of
    :func:`xcs.evaluation.suite.evaluate` (a test keeps the two in step)."""

    tasks: str | list[str] = field(default_factory=lambda: list(ALL_TASKS))
    pairs: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}-[a-z]{2,3}$")]] = field(
        default_factory=lambda: list(PAPER_PAIRS))
    xquadr_dir: str | None = None
    tatoeba_dir: str | None = None
    # None: every language; an empty list would evaluate nothing
    languages: Annotated[list[LanguageCode], Field(min_length=1)] | None = None
    tatoeba_languages: Annotated[list[LanguageCode], Field(min_length=1)] | None = None
    subsample: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    split: Literal["dev", "test"] | None = None
    tatoeba_kind: Literal["query", "passage"] | None = "query"
    cs_query_lexicon: Annotated[str, Field(min_length=1)] = "xling"
    cs_query_rates: Annotated[list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=1)] = field(
        default_factory=lambda: [0.25, 0.5])
    command: str | None = None

    def __post_init__(self) -> None:
        from xcs.evaluation.protocol import resolve_tasks

        resolve_tasks(self.tasks)

    def suite_keywords(self) -> dict[str, Any]:
        """The keyword arguments of :func:`xcs.evaluation.suite.evaluate` (every field but ``tasks``
        and ``pairs``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("tasks", "pairs")}


def _validated(path: Path, table: str, make: Callable[[], _T]) -> _T:
    """``make()``, with a validation error turned into a ValueError naming the file and the table."""
    try:
        return make()
    except ValidationError as exc:
        raise ValueError(f"{path}: {table}: {validation_message(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {table}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory; --config takes a TOML file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the config ({exc.strerror or exc})") from None


def _methods(path: Path, tables: Any) -> dict[str, Method]:
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError(f"{path}: no [methods.NAME] tables")
    methods: dict[str, Method] = {}
    for name, table in tables.items():
        where = f"[methods.{name}]"
        if not isinstance(table, Mapping):
            raise ValueError(f"{path}: {where} must be a table")
        table = dict(table)
        sweeps = {key: table.pop(f"{key}_sweep") for key in SWEPT_KEYS if f"{key}_sweep" in table}
        if len(sweeps) > 1:
            raise ValueError(f"{path}: {where} sweeps {sorted(sweeps)}; one sweep per method table")
        for key in sweeps:
            if key in table:
                raise ValueError(f"{path}: {where} sets both {key} and {key}_sweep; the sweep would override "
                                 f"{key} = {table[key]!r}: set one of them")
        if not sweeps:
            if name in methods:
                raise ValueError(f"{path}: {where} has the name of a swept method of another table")
            methods[name] = _validated(path, where, lambda n=name, t=table: Method.from_dict(n, t))
            continue
        (key, sweep), = sweeps.items()
        numbers = isinstance(sweep, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  for v in sweep)
        if not sweep or not numbers:
            raise ValueError(f"{path}: {where} {key}_sweep must be a non-empty list of numbers, "
                             f"got {sweep!r}")
        for value in sweep:
            swept = f"{name}@{key}={value:g}"
            if swept in methods:
                raise ValueError(f"{path}: {where} {key}_sweep {sweep!r}: two values are both named "
                                 f"{swept!r} (values are named to 6 significant digits); one would replace "
                                 "the other: drop the repeat")
            methods[swept] = _validated(path, where, lambda n=swept, t=table, k=key, v=value:
                                        Method.from_dict(n, {**t, k: float(v)}))
    _check_bases(path, methods)
    return methods


def _check_bases(path: Path, methods: Mapping[str, Method]) -> None:
    """Each interpolating method's ``base`` is a method of the config that trains a dual encoder, and
    a method that is not evaluated is some interpolation's base."""
    bases = {m.base for m in methods.values()}
    for method in methods.values():
        if not method.evaluate and method.name not in bases:
            raise ValueError(f"{path}: [methods.{method.name}] evaluate = false, but no interpolation "
                             "has it as its base: its model would be trained for nothing")
        if method.base is None:
            continue
        base = methods.get(method.base)
        if base is None or not base.trains:
            what = "not a method of this config" if base is None else f"a {base.strategy!r} method"
            table = method.name.split("@")[0]
            raise ValueError(f"{path}: [methods.{table}] base = {method.base!r} is {what}; it must name "
                             f"a method that trains (one of "
                             f"{sorted(m.name for m in methods.values() if m.trains)})")


def check_data_files(config: ExperimentConfig, data_dir: str | os.PathLike[str], path: Path) -> None:
    """Every file the experiment will read exists: the training data, each method's lexicons and the
    evaluation data of every task and language (errors name the config file and the method or table)."""
    root = Path(data_dir)
    needed: list[tuple[str, Path]] = []
    if any(strategy_of(m).reads_pairs for m in config.methods.values()):
        needed.append(("[data] (SQuAD v1.1 dev)", root / "squad" / "dev-v1.1.json"))
    for method in config.methods.values():
        strategy = strategy_of(method)
        languages = set(method.switch_languages)
        if strategy.needs_languages:
            languages |= set(method.recipe.languages)
        for lang in sorted(languages):
            src, tgt = (lang, "en") if strategy.reverse_lexicons else ("en", lang)
            try:
                method.recipe.lexicon_paths(src, tgt, root)
            except FileNotFoundError as exc:
                raise FileNotFoundError(f"{path}: [methods.{method.name}]: {exc}") from None
    tasks = set(config.tasks)
    if tasks & {"lareqa", "moir", "clir", "mlir"}:
        xquadr = Path(config.eval.xquadr_dir or root / "xquad-r")
        languages = config.eval.languages or sorted({lang for pair in config.pairs
                                                     for lang in pair.split("-")})
        needed += [(f"[eval] XQuAD-R language {lang!r}", xquadr / f"{lang}.json") for lang in languages]
    if "tatoeba" in tasks:
        needed.append(("[eval] Tatoeba", Path(config.eval.tatoeba_dir or root / "tatoeba")))
    for what, file in needed:
        if not file.exists():
            raise FileNotFoundError(f"{path}: {what}: {file} does not exist")


def load_config(path: str | os.PathLike[str],
                data_dir: str | os.PathLike[str] | None = None) -> ExperimentConfig:
    """Parse and validate an experiment TOML at load time: types and ranges of every key (pydantic,
    strict), unknown keys, the baseline, each method's training settings and, with ``data_dir``, every
    data and lexicon file the run will read. Errors name the file, the table and the key."""
    from xcs.training.devices import check_device_name

    path = Path(path)
    raw = _read_toml(path)
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {unknown}; known: {sorted(_TOP_LEVEL)}")
    top = _validated(path, "top level", lambda: TopLevel(**{k: v for k, v in raw.items()
                                                           if k not in ("train", "data", "eval", "methods")}))
    device = _validated(path, "device", lambda: check_device_name(top.device))
    tables = {}
    for table in ("data", "eval", "train"):
        values = raw.get(table, {})
        if not isinstance(values, Mapping):
            raise ValueError(f"{path}: [{table}] must be a table")
        tables[table] = dict(values)
    data = _validated(path, "[data]", lambda: DataOptions(**tables["data"]))
    evaluation = _validated(path, "[eval]", lambda: EvalOptions(**tables["eval"]))
    methods = _methods(path, raw.get("methods"))
    config = ExperimentConfig(
        name=top.name or path.stem, methods=methods, seeds=top.seeds, model=top.model, baseline=top.baseline,
        reference=top.reference, train=tables["train"], data=data, eval=evaluation,
        keep_models=top.keep_models, device=device)
    for key in ("baseline", "reference"):
        name = getattr(config, key)
        if name is not None and name not in methods:
            raise ValueError(f"{path}: {key} {name!r} is not among the methods {sorted(methods)}")
        if name is not None and not methods[name].evaluate:
            raise ValueError(f"{path}: the {key} {name!r} has evaluate = false; it needs its numbers")
    if config.reference == config.baseline:
        raise ValueError(f"{path}: reference {config.reference!r} is the baseline; name another method")
    for method in methods.values():
        control = method.control
        if control is not None and (control not in methods or not methods[control].evaluate
                                    or control == method.name):
            raise ValueError(f"{path}: [methods.{method.name}] control {control!r} must name another method "
                             f"that is evaluated, one of {sorted(m for m in methods if methods[m].evaluate)}")
    for method in methods.values():  # fail now, not after an hour of training
        _validated(path, f"[train] / [methods.{method.name}.train]",
                   lambda m=method: config.train_config(m, config.seeds[0]))
    if data_dir is not None:
        check_data_files(config, data_dir, path)
    return config
