"""Fetch an upstream data file from its canonical address (only where a network exists).

Readers never download by themselves: they read a local directory laid out like ``../shared/data``.
Where a network exists, fill it with :func:`fetch` and the addresses in each reader's ``URL`` /
``URLS`` (e.g. ``fetch(xquadr.URLS["xquad-r"].format(lang="de"), "data/xquad-r/de.json")``).
Tests never call it.
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
