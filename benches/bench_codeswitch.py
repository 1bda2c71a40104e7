"""pytest-benchmark: code-switching engine vs the string pipelines (``pytest benches/ --benchmark-enable``).

Input: 2000 SQuAD v1.1 dev questions and 300 contexts, default (XLM-R) tokenizer, MUSE en-de,
p = 0.5. ``xcs bench codeswitch`` is the full version (all of SQuAD dev, ML-CS, ratios, the
collator against a training step) printing JSON.
"""

from __future__ import annotations

import numpy as np
import pytest

from xcs.bench.codeswitch import squad_texts
from xcs.comparisons.pipelines import ContrastiveMixPipeline, PaperPipeline
from xcs.io.paths import data_dir
from xcs.lexicons.lexicon import Lexicon
from xcs.models.checkpoints import load_tokenizer
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher


@pytest.fixture(scope="module")
def setup():
    root = data_dir(required=False)
    if root is None or not (root / "squad" / "dev-v1.1.json").is_file():
        pytest.skip("shared data not found (set XCS_DATA_DIR)")
    questions, contexts = squad_texts(root)
    texts = questions[:2000] + contexts[:300]
    tokenizer = load_tokenizer()
    lexicon = Lexicon.load(root / "muse" / "en-de.txt", "en", "de")
    compiled = CompiledLexicon.compile(lexicon, tokenizer)
    batch = tokenizer(texts)["input_ids"]
    offsets = np.zeros(len(batch) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in batch], out=offsets[1:])
    ids = np.fromiter((t for row in batch for t in row), dtype=np.int32, count=int(offsets[-1]))
    return {"tokenizer": tokenizer, "lexicon": lexicon, "compiled": compiled, "texts": texts, "batch": batch,
            "ids": ids, "offsets": offsets, "index": np.arange(len(batch), dtype=np.int64)}


@pytest.mark.parametrize(("backend", "threads"), [("native", 1), ("native", 2), ("numba", 1)])
def test_engine_bl_cs(benchmark, setup, backend, threads):
    switcher = CodeSwitcher(setup["tokenizer"], {"de": setup["compiled"]}, p=0.5, backend=backend,
                            num_threads=threads)
    out = benchmark(switcher.switch_flat, setup["ids"], setup["offsets"], setup["index"])
    benchmark.extra_info["input_tokens"] = int(setup["ids"].shape[0])
    assert out["offsets"].shape[0] == len(setup["batch"]) + 1


def test_engine_list_api(benchmark, setup):
    switcher = CodeSwitcher(setup["tokenizer"], {"de": setup["compiled"]}, p=0.5)
    assert len(benchmark(switcher, setup["batch"])) == len(setup["batch"])


def test_contrastivemix_pipeline(benchmark, setup):
    mix = ContrastiveMixPipeline(setup["tokenizer"], setup["lexicon"], p=0.5)
    assert len(benchmark.pedantic(mix, args=(setup["batch"],), rounds=1)) == len(setup["batch"])


def test_paper_pipeline(benchmark, setup):
    paper = PaperPipeline(setup["tokenizer"], setup["lexicon"], p=0.5)
    assert len(benchmark.pedantic(paper, args=(setup["texts"],), rounds=1)) == len(setup["texts"])
