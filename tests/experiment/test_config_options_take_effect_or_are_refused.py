"""Issue 21.6: a config option either takes effect or is refused at load time (never ignored or
silently overridden), and sweep values never collide into one method name."""

from __future__ import annotations

from pathlib import Path

import pytest

from xcs.experiment.config import load_config
from xcs.experiment.methods import Method

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
    assert config.methods["ml"].p == 0.3 and config.methods["wise@alpha=0.15"].alpha == 0.15


def test_a_method_built_in_code_refuses_an_alpha_it_would_ignore():
    with pytest.raises(ValueError, match="alpha is for strategy = 'interpolate'"):
        Method("ml", languages=["de"], alpha=0.5)
    assert Method("ml", languages=["de"]).alpha == 1.0  # the default (and what old records hold)
