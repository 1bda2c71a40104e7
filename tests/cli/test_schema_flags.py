"""The flags of `xcs train` and `xcs eval` are generated from the option schemas: every field has a
flag, every generated flag a field, and an unset flag keeps the schema's default."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from xcs.cli import build_parser
from xcs.cli.evaluate import NOT_FLAGS
from xcs.cli.schema import given_fields, schema_flags
from xcs.data.options import DataOptions
from xcs.evaluation.suite import evaluate
from xcs.experiment.config import EvalOptions
from xcs.experiment.methods import Method
from xcs.switching.recipe import SwitchingRecipe
from xcs.training.config import TrainConfig


def _subparser(name):
    parser = build_parser()
    action = next(a for a in parser._subparsers._group_actions if name in a.choices)
    return action.choices[name]


def _group_flags(parser, title):
    group = next(g for g in parser._action_groups if g.title == title)
    return {option: action.dest for action in group._group_actions for option in action.option_strings}


@pytest.mark.parametrize(("command", "schema", "title", "exclude"), [
    ("train", TrainConfig, "training ([train], TrainConfig)", ()),
    ("train", SwitchingRecipe, "code-switching (SwitchingRecipe)", ()),
    ("train", DataOptions, "data ([data])", ()),
    ("eval", EvalOptions, "evaluation options ([eval], EvalOptions)", NOT_FLAGS),
])
def test_every_field_has_a_flag_and_every_flag_a_field(command, schema, title, exclude):
    flags = _group_flags(_subparser(command), title)
    fields = {f.name for f in dataclasses.fields(schema)} - set(exclude)
    assert set(flags.values()) == fields
    assert set(flags) == {f.flag for f in schema_flags(schema, exclude=exclude)}


def test_unset_flags_keep_the_schema_defaults_and_switches_flip_them():
    parser = _subparser("train")
    args = parser.parse_args(["--out", "x", "--steps", "3", "--no-shared-towers", "--symmetric",
                              "--hard-negatives", "mined"])
    assert given_fields(args, TrainConfig) == {"steps": 3, "shared_towers": False, "symmetric": True,
                                               "hard_negatives": "mined"}
    assert TrainConfig(**given_fields(parser.parse_args(["--out", "x"]), TrainConfig)) == TrainConfig()
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x", "--hard-negatives", "bogus"])  # a Literal gives choices


def test_xcs_train_and_a_config_table_build_the_same_recipe():
    args = _subparser("train").parse_args(["--out", "x", "--languages", "de,ru", "--query-languages", "de",
                                           "--p", "0.3", "--no-keep-case", "--max-candidates", "4"])
    table = {"languages": ["de", "ru"], "query_languages": ["de"], "p": 0.3, "keep_case": False,
             "max_candidates": 4}
    assert SwitchingRecipe(**given_fields(args, SwitchingRecipe)) == Method.from_dict("ml", table).recipe
    unset = _subparser("train").parse_args(["--out", "x"])
    assert given_fields(unset, SwitchingRecipe) == {} and given_fields(unset, DataOptions) == {}


def test_eval_lists_and_evaluate_defaults():
    args = _subparser("eval").parse_args(["--out", "x", "--languages", "de,en", "--cs-query-rates", "0.1,0.9",
                                          "--tatoeba-kind", "passage"])
    assert given_fields(args, EvalOptions, exclude=NOT_FLAGS) == {
        "languages": ["de", "en"], "cs_query_rates": [0.1, 0.9], "tatoeba_kind": "passage"}
    # the schema and evaluate() agree on every default (each exists once in meaning)
    defaults = {n: p.default for n, p in inspect.signature(evaluate).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
    for f in dataclasses.fields(EvalOptions):
        if f.name in defaults:
            schema_default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            assert list(defaults[f.name]) == schema_default if isinstance(schema_default, list) \
                else defaults[f.name] == schema_default, f.name
