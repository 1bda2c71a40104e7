"""Hostile arguments for the public Python API (issue 21): every call either succeeds with a finite
result or raises ValueError / TypeError whose message names the argument: never another exception
type (AttributeError, IndexError, OverflowError, numpy's own errors), never NaN, never a silent
coercion of a bool or a string to a number.

One argument at a time gets a value drawn from a hostile pool (None, bools, strings, NaN and
infinities, huge and negative numbers, lists, numpy arrays, tensors of odd dtypes and shapes); the
others keep valid values.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xcs.evaluation import metrics as m
from xcs.loss.api import ContrastiveLoss, contrastive_loss

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 1, -1, 0.5, 1e-45, 1e308, 2**63]),
    st.text(max_size=4), st.sampled_from(["0.05", "1", "nan", "mean", "auto", "de", ""]),
    st.sampled_from([np.float32(0.05), np.float64("nan"), np.int64(3), np.bool_(True)]),
)
CONTAINERS = st.one_of(
    st.lists(st.one_of(st.integers(-3, 5), st.floats(allow_nan=True), st.text(max_size=2)), max_size=4),
    st.sampled_from([(), {}, {"de": 1}, [[0, 1], [2]], np.array([0.5, 1.5]), np.zeros((2, 2, 2)),
                     np.array(["a", "b"]), np.array([[1, 0], [0, 1]], dtype=bool)]),
)
TENSORS = st.sampled_from([
    torch.tensor(0.05), torch.tensor([0.05]), torch.tensor(1), torch.tensor(float("nan")),
    torch.tensor([0, 1, 2]), torch.tensor([0, 1, 5]), torch.tensor([-1, 0, 1]), torch.tensor([0.0, 1.0, 2.0]),
    torch.tensor([True, False, True]), torch.zeros(3, 4), torch.zeros(3, 4, dtype=torch.float64),
    torch.zeros(3, 4, dtype=torch.int64), torch.zeros(0, 4), torch.zeros(3), torch.zeros(3, 5),
    torch.zeros(2, 4), torch.zeros(5, 4), torch.tensor([0, 1, 2], dtype=torch.int8),
    torch.tensor([0, 0, 1], dtype=torch.uint8), torch.zeros(3, 4, dtype=torch.complex64),
])
HOSTILE = st.one_of(SCALARS, CONTAINERS, TENSORS)


def _finite(result) -> bool:
    if isinstance(result, torch.Tensor):
        return bool(torch.isfinite(result.detach()).all())
    if isinstance(result, np.ndarray):
        return result.dtype.kind not in "fc" or bool(np.isfinite(result).all())
    if isinstance(result, float):
        return math.isfinite(result)
    return True


def _names(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


def check_call(call, name: str):
    """Run ``call``: a finite result, or a ValueError / TypeError naming ``name``; anything else
    (another exception type, NaN) fails the test."""
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        assert _names(name).search(str(exc)), f"the error for {name} does not name it: {exc!r}"
        return None
    assert _finite(result), f"{name}: a non-finite result {result!r}"
    return result


# --------------------------------------------------------------------------------- the loss
def _embeddings():
    generator = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(3, 4, generator=generator), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(3, 4, generator=generator), dim=-1)
    return q, d


LOSS_ARGS = ["q", "d", "temperature", "labels", "symmetric", "margin", "false_negative_ids", "reduction",
             "gather", "impl", "chunk_size"]


@FAST
@given(name=st.sampled_from(LOSS_ARGS), value=HOSTILE, impl=st.sampled_from(["chunked", "eager"]))
def test_contrastive_loss_hostile_argument(name, value, impl):
    q, d = _embeddings()
    args = {"q": q, "d": d, "impl": impl}
    args[name] = value
    positional = args.pop("q"), args.pop("d")
    check_call(lambda: contrastive_loss(*positional, **args), name)


@FAST
@given(name=st.sampled_from(["temperature", "learnable_temperature", "symmetric", "margin", "reduction",
                             "gather", "impl"]), value=HOSTILE)
def test_contrastive_loss_module_hostile_argument(name, value):
    q, d = _embeddings()
    loss = check_call(lambda: ContrastiveLoss(**{name: value}), name)
    if loss is not None and name != "gather" or (name == "gather" and value is False):
        # a module that was built computes a finite loss (or names what is wrong at forward)
        check_call(lambda: loss(q, d), name)


@FAST
@given(temperature=st.floats(min_value=1e-6, max_value=1e6), margin=st.floats(-10, 10),
       symmetric=st.booleans(), impl=st.sampled_from(["chunked", "eager"]))
def test_contrastive_loss_is_finite_for_every_valid_temperature(temperature, margin, symmetric, impl):
    q, d = _embeddings()
    loss = contrastive_loss(q, d, temperature=temperature, margin=margin, symmetric=symmetric, impl=impl)
    assert torch.isfinite(loss)


# --------------------------------------------------------------------------- the code-switcher
@pytest.fixture(scope="module")
def lexicons(e5_tokenizer):
    from xcs.lexicons.lexicon import Lexicon
    from xcs.switching.compiled_lexicon import CompiledLexicon

    pairs = {"de": [("cat", "Katze"), ("house", "Haus")], "fr": [("cat", "chat"), ("house", "maison")]}
    return {lang: CompiledLexicon.compile(Lexicon.from_pairs(rows, "en", lang), e5_tokenizer)
            for lang, rows in pairs.items()}


SWITCHER_ARGS = ["lexicons", "p", "mode", "seed", "target_language", "language_weights", "max_length",
                 "num_threads", "backend", "keep_case", "skip_stopwords", "stopwords", "protect_names",
                 "language_per", "example_p"]


@FAST
@given(name=st.sampled_from(SWITCHER_ARGS), value=HOSTILE, multilingual=st.booleans())
def test_codeswitcher_hostile_constructor_argument(e5_tokenizer, lexicons, name, value, multilingual):
    from xcs.switching.switcher import CodeSwitcher

    args = {"lexicons": lexicons, "mode": "multilingual" if multilingual else "bilingual"}
    if not multilingual:
        args["target_language"] = "de"
    args[name] = value
    switcher = check_call(lambda: CodeSwitcher(e5_tokenizer, **args), name)
    if switcher is not None:
        batch = e5_tokenizer(["the cat is in the house", "a house"])["input_ids"]
        out = switcher(batch)
        assert len(out) == 2 and all(isinstance(t, int) for row in out for t in row)


CALL_ARGS = ["batch", "attention_mask", "example_indices", "offset", "epoch", "max_length", "pair_indices"]


@FAST
@given(name=st.sampled_from(CALL_ARGS), value=HOSTILE)
def test_codeswitcher_hostile_call_argument(e5_tokenizer, lexicons, name, value):
    from xcs.switching.switcher import CodeSwitcher

    switcher = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", language_per="example",
                            example_p=0.5)
    args = {"batch": e5_tokenizer(["the cat is in the house", "a house"])["input_ids"]}
    args[name] = value
    # the error may name the argument or, for the batch, the token ids / rows it holds
    try:
        switcher(**args)
    except (ValueError, TypeError) as exc:
        aliases = {"batch": ("batch", "token ids", "token id", "ids", "row", "rows", "sequence", "input_ids",
                             "offsets"),
                   "attention_mask": ("attention_mask", "a padded batch"),
                   "example_indices": ("example_indices", "example_index"),
                   "pair_indices": ("pair_indices", "pair_index")}.get(name, (name,))
        assert any(_names(a).search(str(exc)) for a in aliases), f"{name}: {exc!r}"


# ------------------------------------------------------------------------------ the metrics
RANKED = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
COUNTS = np.array([2, 1])


def _metric_calls(name, value):
    """Each low-level metric with ``name`` replaced by ``value``."""
    base = {"ranked": RANKED, "n_relevant": COUNTS, "k": 2, "ideal_gains": RANKED}
    base[name] = value
    ranked, counts, k, ideal = base["ranked"], base["n_relevant"], base["k"], base["ideal_gains"]
    calls = [lambda: m.reciprocal_rank(ranked, k), lambda: m.accuracy_at_1(ranked)]
    calls += [lambda f=f: f(ranked, counts, k) for f in (m.average_precision, m.lareqa_average_precision,
                                                         m.recall)]
    calls.append(lambda: m.ndcg(ranked, ideal, k))
    return calls


@FAST
@given(name=st.sampled_from(["ranked", "n_relevant", "k", "ideal_gains"]), value=HOSTILE)
def test_metric_functions_hostile_argument(name, value):
    aliases = {"k": "k"}.get(name, name)
    for call in _metric_calls(name, value):
        result = check_call(call, aliases)
        if result is not None:
            assert np.all((result >= 0) & (result <= 1)), (name, value, result)


@FAST
@given(name=st.sampled_from(["scores", "relevance", "k", "tie_rank"]), value=HOSTILE)
def test_reciprocal_rank_from_scores_hostile_argument(name, value):
    args = {"scores": np.array([[0.3, 0.9], [0.1, 0.2]]), "relevance": np.array([[1, 0], [0, 1]]), "k": 10}
    args[name] = value
    result = check_call(lambda: m.reciprocal_rank_from_scores(**args), name)
    if result is not None:
        assert np.all((result >= 0) & (result <= 1))


@FAST
@given(value=st.one_of(HOSTILE, st.lists(st.one_of(HOSTILE, st.dictionaries(SCALARS, SCALARS, max_size=2)),
                                        max_size=3)))
def test_relevance_judgments_hostile(value):
    try:
        m.RelevanceJudgments.from_lists(value)
    except (ValueError, TypeError) as exc:
        assert re.search(r"judgments|query|document", str(exc)), repr(exc)


@FAST
@given(value=st.one_of(SCALARS, st.text(alphabet="mrapcldng@0123456789", max_size=10)))
def test_parse_metric_hostile(value):
    try:
        family, k = m.parse_metric(value)
    except (ValueError, TypeError) as exc:
        assert "metric" in str(exc)
    else:
        assert k >= 1


# ------------------------------------------------------------------------------ evaluate
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory, evaluation_helpers):
    return evaluation_helpers._write_data(tmp_path_factory.mktemp("hostile-eval") / "data")


EVALUATE_ARGS = ["tasks", "languages", "tatoeba_languages", "subsample", "seed", "split", "tatoeba_kind"]


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(EVALUATE_ARGS), value=HOSTILE)
def test_evaluate_hostile_option(tiny_data, evaluation_helpers, name, value):
    from xcs.evaluation.suite import evaluate

    TagEncoder = evaluation_helpers.TagEncoder  # noqa: N806
    args = {"tasks": "xquadr,tatoeba", "tatoeba_languages": ["de"], "subsample": 2}
    args[name] = value
    try:
        results = evaluate(TagEncoder(), args.pop("tasks"), tiny_data, None, **args)
    except (ValueError, TypeError) as exc:
        assert _names(name).search(str(exc)) or (name == "tasks" and "task" in str(exc)), repr(exc)
    except FileNotFoundError as exc:  # a language code with no file: the file is named
        assert name in ("languages", "tatoeba_languages"), repr(exc)
        assert "not found" in str(exc) or "missing" in str(exc), repr(exc)
    else:
        flat = [v for task in results.values() for v in task.values() if isinstance(v, float)]
        assert all(math.isfinite(v) for v in flat)
