"""Fetch an upstream data file from its canonical address (only where a network exists).

Readers never download by themselves: they read a local directory laid out like ``../shared/data``.
Where a network exists, fill it with :func:`fetch` and the addresses in each reader's ``URL`` /
``URLS`` (e.g. ``fetch(xquadr.URLS["xquad-r"].format(lang="de"), "data/xquad-r/de.json")``).
Tests never call it.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path

from xcs.io.atomic import atomic_path


def fetch(url: str, destination: str | os.PathLike[str], *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically (:func:`xcs.io.atomic.atomic_path`); return the path.

    An existing file is kept. Raises ``FileNotFoundError`` naming the address when it cannot be
    reached (no network), so callers can tell the user where to put the file by hand.
    """
    destination = Path(destination)
    if destination.exists():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(destination) as tmp, open(tmp, "wb") as out, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise FileNotFoundError(f"could not download {url} to {destination}: {exc}") from exc
    return destination
