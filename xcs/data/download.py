"""Fetch an upstream data file from its canonical address (only where a network exists).

Readers never download by themselves; ``xcs eval --download`` and users call :func:`fetch` to fill a
local data directory laid out like ``../shared/data``. Tests never call it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path


def fetch(url: str, destination: str | os.PathLike[str], *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically (tmp file + ``os.replace``); return the path.

    An existing file is kept. Raises ``FileNotFoundError`` naming the address when it cannot be
    reached (no network), so callers can tell the user where to put the file by hand.
    """
    destination = Path(destination)
    if destination.exists():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        os.replace(tmp, destination)
    except OSError as exc:
        raise FileNotFoundError(f"could not download {url} to {destination}: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return destination
