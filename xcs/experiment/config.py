"""The experiment config: a TOML file parsed and checked at load time (errors name the file and key).

Layout: top-level ``name``, ``seeds``, ``model``, ``baseline``, ``keep_models``, ``device``; tables
``[train]`` (fields of :class:`xcs.training.config.TrainConfig`), ``[data]``, ``[eval]`` (keyword
arguments of :func:`xcs.evaluation.suite.evaluate`, plus ``tasks`` and ``pairs``) and
``[methods.NAME]`` (fields of :class:`xcs.experiment.methods.Method`; ``p_sweep = [...]`` expands one
method into one per switch rate, named ``NAME@p=P``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xcs.evaluation.protocol import ALL_TASKS, PAPER_PAIRS

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser as the tomli package
    import tomli as tomllib

if TYPE_CHECKING:  # torch-free at import time: `xcs --help` loads this module
    from xcs.experiment.methods import Method
    from xcs.training.config import TrainConfig


@dataclass
class ExperimentConfig:
    """A parsed experiment config (see the module docstring for the TOML layout)."""

    name: str
    methods: dict[str, Method]
    seeds: list[int] = field(default_factory=lambda: [0])
    model: str = "default"
    baseline: str = "zero-shot"
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    keep_models: bool = True
    device: str = "auto"

    def train_config(self, method: Method, seed: int) -> TrainConfig:
        """The training settings of ``method`` at ``seed``: ``[train]``, overridden by the method's own
        ``train`` table, then ``seed`` and the method's ``align_weight`` (when non-zero)."""
        from xcs.training.config import TrainConfig

        values = {**self.train, **method.train, "seed": seed}
        if method.align_weight:
            values["align_weight"] = method.align_weight
        return TrainConfig.from_dict(values)

    @property
    def tasks(self) -> list[str]:
        return list(self.eval.get("tasks", ALL_TASKS))

    @property
    def pairs(self) -> list[str]:
        return list(self.eval.get("pairs", PAPER_PAIRS))


_TOP_LEVEL = {"name", "seeds", "model", "baseline", "train", "data", "eval", "methods", "keep_models",
              "device"}


_DATA_KEYS = {"max_pairs", "max_query_length", "max_document_length", "hold_out_xquad"}


# [eval] keys the experiment reads itself; every other key is a keyword argument of evaluate()
_EVAL_OWN_KEYS = {"tasks", "pairs"}


def _check_eval_table(path: Path, table: Mapping[str, Any]) -> None:
    """Unknown ``[eval]`` keys and task names fail at load time, not after the first training run."""
    import inspect

    from xcs.evaluation.protocol import resolve_tasks
    from xcs.evaluation.suite import evaluate

    # the runner passes encoder, tasks, data_dir and out_dir itself; the keyword-only rest is the config's
    parameters = inspect.signature(evaluate).parameters
    known = _EVAL_OWN_KEYS | {name for name, parameter in parameters.items()
                              if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown [eval] key(s) {unknown}; known: {sorted(known)}")
    if "tasks" in table:
        try:
            resolve_tasks(table["tasks"])
        except ValueError as exc:
            raise ValueError(f"{path}: [eval] tasks: {exc}") from None


def load_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Parse and validate an experiment TOML; errors name the file and the offending key."""
    from xcs.experiment.methods import Method
    from xcs.training.devices import check_device_name

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {unknown}; known: {sorted(_TOP_LEVEL)}")
    bad_data = sorted(set(raw.get("data", {})) - _DATA_KEYS)
    if bad_data:
        raise ValueError(f"{path}: unknown [data] key(s) {bad_data}; known: {sorted(_DATA_KEYS)}")
    _check_eval_table(path, raw.get("eval", {}))
    try:
        device = check_device_name(raw.get("device", "auto"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not raw.get("methods"):
        raise ValueError(f"{path}: no [methods.NAME] tables")
    methods: dict[str, Method] = {}
    for name, table in raw["methods"].items():
        table = dict(table)
        sweep = table.pop("p_sweep", None)
        try:
            if sweep is None:
                methods[name] = Method.from_dict(name, table)
            else:
                for p in sweep:
                    methods[f"{name}@p={p:g}"] = Method.from_dict(f"{name}@p={p:g}", {**table, "p": float(p)})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: [methods.{name}]: {exc}") from None
    config = ExperimentConfig(
        name=str(raw.get("name", path.stem)), methods=methods, seeds=[int(s) for s in raw.get("seeds", [0])],
        model=str(raw.get("model", "default")), baseline=str(raw.get("baseline", "zero-shot")),
        train=dict(raw.get("train", {})), data=dict(raw.get("data", {})), eval=dict(raw.get("eval", {})),
        keep_models=bool(raw.get("keep_models", True)), device=device,
    )
    if config.baseline not in methods:
        raise ValueError(f"{path}: baseline {config.baseline!r} is not among the methods {sorted(methods)}")
    for method in methods.values():  # fail now, not after an hour of training
        try:
            config.train_config(method, config.seeds[0])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: [train] / [methods.{method.name}.train]: {exc}") from None
    return config
