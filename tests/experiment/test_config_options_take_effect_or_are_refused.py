"""Issue 21.6: a config option either takes effect or is refused at load time (never ignored or
silently overridden), and sweep values never collide into one method name."""

from __future__ import annotations

from pathlib import Path

import pytest

from xcs.experiment.config import load_config
from xcs.experiment.methods import Method
from xcs.switching.recipe import SwitchingRecipe

HEAD = "name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\n"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize(("table", "message"), [
    # alpha / alpha_sweep on a method that is not an interpolation: identical models, several names
    ("[methods.ml]\nlanguages=['de']\nalpha=0.5\n",
     r"\[methods.ml\]: method 'ml': 'alpha' \(or alpha_sweep\) is for strategy = 'interpolate'; a "
     r"'code-switch' method ignores it"),
    ("[methods.ml]\nlanguages=['de']\nalpha_sweep=[0.2, 0.8]\n",
     r"'alpha' \(or alpha_sweep\) is for strategy"),
    ("[methods.plain]\nstrategy='off-the-shelf'\nalpha=1.0\n", "'off-the-shelf' method ignores it"),
    # p / p_sweep on a method that switches nothing
    ("[methods.en]\nstrategy='zero-shot'\np_sweep=[0.25, 0.5]\n",
     r"method 'en@p=0.25': 'p' \(or p_sweep\) is for strategy = 'code-switch' / 'rerank'"),
    ("[methods.en]\nstrategy='off-the-shelf'\np_start=0.1\n",
     "'p_start' .* 'off-the-shelf' method ignores it"),
    # a value and its sweep: the sweep used to override the value silently
    ("[methods.wise]\nstrategy='interpolate'\nbase='zero-shot'\nalpha=0.3\nalpha_sweep=[0.5, 1.0]\n",
     r"\[methods.wise\] sets both alpha and alpha_sweep; the sweep would override alpha = 0.3"),
    ("[methods.ml]\nlanguages=['de']\np=0.3\np_sweep=[0.5]\n", "sets both p and p_sweep"),
    # values that format alike: one method used to replace the other
    ("[methods.ml]\nlanguages=['de']\np_sweep=[0.1, 0.1000001]\n",
     r"\[methods.ml\] p_sweep \[0.1, 0.1000001\]: two values are both named 'ml@p=0.1'"),
    ("[methods.wise]\nstrategy='interpolate'\nbase='zero-shot'\nalpha_sweep=[0.5, 0.5]\n",
     "two values are both named 'wise@alpha=0.5'"),
    ("[methods.ml]\nlanguages=['de']\np_sweep=[0.5]\n[methods.'ml@p=0.5']\nlanguages=['ru']\n",
     r"\[methods.ml@p=0.5\] has the name of a swept method of another table"),
    # NaN is refused with the same message wherever a probability is read
    ("[methods.wise]\nstrategy='interpolate'\nbase='zero-shot'\nalpha=nan\n",
     "alpha: Input should be a finite number"),
])
def test_options_that_cannot_take_effect_are_refused(tmp_path, table, message):
    with pytest.raises(ValueError, match=message):
        _load(tmp_path, table)


def test_options_that_take_effect_still_load(tmp_path):
    config = _load(tmp_path, "[methods.ml]\nlanguages=['de']\np=0.3\np_start=0.1\n"
                             "[methods.wise]\nstrategy='interpolate'\nbase='ml'\nalpha_sweep=[0.1, 0.15]\n")
    assert config.methods["ml"].recipe.p == 0.3 and config.methods["wise@alpha=0.15"].alpha == 0.15


def test_a_method_built_in_code_refuses_an_alpha_it_would_ignore():
    with pytest.raises(ValueError, match="alpha is for strategy = 'interpolate'"):
        Method("ml", recipe=SwitchingRecipe(languages=["de"]), alpha=0.5)
    # the default (and what old records hold)
    assert Method("ml", recipe=SwitchingRecipe(languages=["de"])).alpha == 1.0


@pytest.mark.parametrize(("table", "message"), [
    # an empty language list would evaluate nothing: refused at load, not after the training
    ("[eval]\nlanguages=[]\n", r"\[eval\]: languages: List should have at least 1 item"),
    ("[eval]\ntatoeba_languages=[]\n", r"\[eval\]: tatoeba_languages: List should have at least 1 item"),
    # [train] values the run would misread or ignore (TrainConfig, the schema the CLI flags share)
    ("[train]\nwarmup=1.5\n", "warmup is a fraction of the steps .* got 1.5"),
    ("[train]\ntemperature=1e-45\n", r"temperature: Input should be greater than or equal to 0.000001"),
    ("[train]\nmine_every=5\n", "mine_every = 5 re-mines the negatives of hard_negatives = 'mined'"),
])
def test_train_and_eval_values_that_cannot_take_effect_are_refused(tmp_path, table, message):
    with pytest.raises(ValueError, match=message):
        _load(tmp_path, table)


def test_train_values_at_the_bounds_load(tmp_path):
    from xcs.loss.api import MIN_TEMPERATURE

    config = _load(tmp_path, f"[train]\nwarmup=3\ntemperature={MIN_TEMPERATURE!r}\nhard_negatives='mined'\n"
                             "mine_every=2\n")
    train = config.train_config(config.methods["zero-shot"], 0)
    assert (train.warmup_steps, train.temperature, train.mine_every) == (3, MIN_TEMPERATURE, 2)


@pytest.mark.parametrize(("seeds", "methods", "message"), [
    ([], None, "--seeds: no seed given"), ([0, 0], None, r"--seeds: \[0, 0\] repeats a seed"),
    ([7], None, r"--seeds: \[7\] not among the config's seeds \[0\]"),
    (None, [], "--only: no method given"), (None, ["nope"], r"--only: unknown method\(s\) \['nope'\]"),
])
def test_the_runs_selected_are_checked_at_load(tmp_path, seeds, methods, message):
    config = _load(tmp_path, "")
    with pytest.raises(ValueError, match=message):
        config.check_selection(seeds, methods)
    config.check_selection([0], ["zero-shot"])
    config.check_selection(None, None)
