"""Where xcs finds shared data, keeps its caches and writes its outputs.

Data is never shipped with the package: ``XCS_DATA_DIR`` points at a directory laid out like
``../shared/data`` (``xquad-r/``, ``tatoeba/``, ``squad/``, ``muse/``, ``xling/``). Converted model
checkpoints and other derived artefacts live under ``XCS_CACHE_DIR`` (default ``~/.cache/xcs``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(override: str | os.PathLike[str] | None = None, *, required: bool = True) -> Path | None:
    """Return the data directory: ``override``, else ``$XCS_DATA_DIR``, else ``../shared/data``.

    The fallback is looked up next to the current directory and next to the source checkout, so
    both ``make`` from the repository root and an installed package inside the checkout find it.
    Raises ``FileNotFoundError`` naming every place looked at when ``required`` and none exists.
    """
    candidates: list[Path] = []
    if override is not None:
        candidates.append(Path(override))
    elif os.environ.get("XCS_DATA_DIR"):
        candidates.append(Path(os.environ["XCS_DATA_DIR"]))
    else:
        candidates += [Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    if required:
        looked = ", ".join(str(p) for p in candidates)
        raise FileNotFoundError(
            f"xcs data directory not found (looked at: {looked}); set XCS_DATA_DIR or pass --data-dir"
        )
    return None


def cache_dir() -> Path:
    """Return (and create) the cache directory: ``$XCS_CACHE_DIR`` or ``~/.cache/xcs``."""
    path = Path(os.environ.get("XCS_CACHE_DIR") or Path.home() / ".cache" / "xcs")
    path.mkdir(parents=True, exist_ok=True)
    return path


# The file that marks a directory as an xcs command's output (``{"command": "xcs train"}``): that
# command may write into it again (resume a run, redo an evaluation); no command writes into a
# non-empty directory without it (see :func:`output_directory`).
OUTPUT_MARKER = ".xcs-output.json"


def model_cache_dir() -> Path:
    """``cache_dir()/models``, where the default model is converted to (not created here): no
    command's output may overlap it."""
    return Path(os.environ.get("XCS_CACHE_DIR") or Path.home() / ".cache" / "xcs") / "models"


def _overlaps(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same path or one lies inside the other (after resolving links)."""
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents


def check_not_an_input(path: str | os.PathLike[str], option: str,
                       inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = ()) -> None:
    """Raise ``ValueError`` when the output ``path`` is, lies inside or contains the model cache or
    one of ``inputs`` (``(option, path)`` pairs; ``None`` and names that are not existing paths, e.g.
    ``"default"``, are skipped): writing there would replace what the command reads, or the cached
    default model that every later command uses. ``--overwrite`` does not lift this."""
    path = Path(path)
    cache = model_cache_dir()
    if _overlaps(path, cache):
        raise ValueError(f"{option} {path} overlaps the model cache {cache} (the converted default model); "
                         "write somewhere else")
    for name, source in inputs:
        if source is None or not Path(source).exists():
            continue
        if _overlaps(path, Path(source)):
            raise ValueError(f"{option} {path} overlaps the input {name} {source}: writing there would "
                             "replace what this command reads; write somewhere else")


def _owner(path: Path) -> str | None:
    """The command recorded in ``path``'s :data:`OUTPUT_MARKER`, else None."""
    import json

    try:
        record = json.loads((path / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("command") if isinstance(record, dict) else None


def check_output_directory(path: str | os.PathLike[str], option: str, *, command: str,
                           overwrite: bool = False,
                           inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
                           legacy: Sequence[str] = ()) -> bool:
    """Check, without creating anything, that ``command`` may write its output directory ``path``.

    The rule every command follows: **no command writes into a non-empty directory it did not
    create.** ``path`` may be missing, empty, or a directory ``command`` made before (its
    :data:`OUTPUT_MARKER` names ``command``, or, for directories written before the marker existed,
    it holds a file matching one of the glob patterns ``legacy``): a run resumes, an evaluation is
    redone. Anything else is a ``ValueError`` naming the path, unless ``overwrite`` (the command's
    ``--overwrite``). Never, even with ``overwrite``: a file where the directory should be, the model
    cache, or a path overlapping one of ``inputs`` (:func:`check_not_an_input`).

    Returns whether ``path`` is (to be) a fresh output of ``command`` (missing or empty), i.e. whether
    :func:`mark_output_directory` should mark it.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a directory")
    check_not_an_input(path, option, inputs)
    if not path.is_dir() or not any(path.iterdir()):
        return True
    if _owner(path) == command or any(any(path.glob(pattern)) for pattern in legacy):
        return False
    if overwrite:
        return False
    made_by = _owner(path)
    whose = f"`{made_by}` made it" if made_by else "no xcs command made it"
    raise ValueError(f"{option} {path} is a non-empty directory that `{command}` did not create ({whose}); "
                     "its files would be overwritten: give a new or empty directory, or pass --overwrite")


def mark_output_directory(path: str | os.PathLike[str], command: str) -> None:
    """Record in ``path`` (an existing directory) that ``command`` made it (:data:`OUTPUT_MARKER`)."""
    from xcs.io.atomic import write_json_atomic

    write_json_atomic({"command": command}, Path(path) / OUTPUT_MARKER)


def output_directory(path: str | os.PathLike[str], option: str, *, command: str | None = None,
                     overwrite: bool = False,
                     inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
                     legacy: Sequence[str] = ()) -> Path:
    """``path`` as an output directory, created and checked writable *before* any work, so a bad
    ``option`` (``--out``, ``--results-dir``) fails in a second rather than after the run.

    With ``command`` (every command line passes its own, e.g. ``"xcs train"``), ``path`` is first
    checked by :func:`check_output_directory` (never a foreign non-empty directory without
    ``overwrite``, never the model cache or an input) and, when fresh, marked as ``command``'s.

    Inside :func:`removing_unused_outputs` (every command line runs inside it) a command that fails
    before writing into ``path`` leaves nothing behind: the marker and the directories created here
    are removed again."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a directory")
    fresh = False
    if command is not None:
        fresh = check_output_directory(path, option, command=command, overwrite=overwrite, inputs=inputs,
                                       legacy=legacy)
    created = _missing_directories(path)  # what mkdir makes, deepest first: this command's to undo
    record = _Made(path, created)
    if _MADE is not None:
        _MADE.append(record)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".xcs-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{option} {path} is not a writable directory ({exc.strerror or exc})") from None
    if command is not None and fresh:
        mark_output_directory(path, command)
        record.marker = command
    return path


class _Made:
    """What :func:`output_directory` made for one output: the directories it created (deepest
    first) and the command whose :data:`OUTPUT_MARKER` it wrote (None: none)."""

    def __init__(self, path: Path, created: list[Path]) -> None:
        self.path, self.created, self.marker = path, created, None


# the outputs made inside :func:`removing_unused_outputs` (None outside it)
_MADE: list[_Made] | None = None


def _missing_directories(path: Path) -> list[Path]:
    """``path`` and those of its ancestors that do not exist, deepest first."""
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    return missing


@contextlib.contextmanager
def removing_unused_outputs() -> Iterator[None]:
    """Undo, when the body fails (any exception), what :func:`output_directory` made inside it and
    nothing has written to since: a command refused after creating its output directory leaves
    nothing behind. Only its own making is undone: the :data:`OUTPUT_MARKER` it wrote, when the
    directory holds nothing else, then the directories it created, when empty; a directory that
    existed before, or holds any other file, is kept as it is."""
    global _MADE
    outer, _MADE = _MADE, []
    made = _MADE
    try:
        yield
    except BaseException:
        for record in reversed(made):
            _remove_unused(record)
        raise
    finally:
        _MADE = outer
        if outer is not None:  # an enclosing call undoes them too when it fails
            outer.extend(made)


def _remove_unused(record: _Made) -> None:
    with contextlib.suppress(OSError):
        if record.marker is not None:
            entries = list(record.path.iterdir())
            marker = record.path / OUTPUT_MARKER
            if entries != [marker] or _owner(record.path) != record.marker:
                return  # written since (or replaced): the command's output, kept
            marker.unlink()
        for directory in record.created:
            try:
                directory.rmdir()  # only when empty
            except FileNotFoundError:
                continue  # never made (mkdir failed below it) or already gone
            # any other OSError (not empty): kept, and so are its parents


def output_file(path: str | os.PathLike[str], option: str, *, overwrite: bool | None = None,
                inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = ()) -> Path:
    """``path`` as an output file: not a directory, in a writable directory (checked before work).

    With ``overwrite`` given (a command's ``--overwrite``): an existing file is refused unless it is
    true, and so (always) is a path overlapping the model cache or one of ``inputs``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; give a file name")
    if overwrite is not None:
        check_not_an_input(path, option, inputs)
        if path.exists() and not overwrite:
            raise ValueError(f"{option} {path} already exists; give a new file name, or pass --overwrite "
                             "to replace it")
    output_directory(path.parent if str(path.parent) else Path("."), f"{option}'s directory")
    return path


def read_json(path: str | os.PathLike[str], what: str) -> object:
    """The JSON in ``path``; a missing, unreadable or corrupt file is an error naming ``what`` and
    the path (``what`` says what the file is, e.g. "run record")."""
    import json

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} {path} is unreadable or corrupt ({exc}); delete it to redo that "
                         "step") from None
