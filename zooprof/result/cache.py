"""A cache of analysis results by key, and the file hashes keys are made of.

A hit loads a ProfileResult from JSON without importing any framework. What a key covers is
decided by `zooprof.measure.cache_key`; this module only stores and finds results by it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from zooprof.result.document import ProfileResult, write_atomic


def cache_dir() -> Path:
    if os.environ.get("ZOOPROF_CACHE_DIR"):
        return Path(os.environ["ZOOPROF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zooprof"


def file_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def path_hash(path: Path) -> str:
    """A file's hash, or a folder's: every file below it, by relative name and contents."""
    if path.is_file():
        return file_hash(str(path))
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(path)}:{file_hash(str(p))};".encode())
    return h.hexdigest()


def load(key: str) -> ProfileResult | None:
    path = cache_dir() / f"{key}.json"
    try:
        return ProfileResult.load(path)
    except (OSError, ValueError, KeyError):
        return None


def store(key: str, result: ProfileResult) -> None:
    try:
        write_atomic(cache_dir() / f"{key}.json", json.dumps(result.to_dict()))
    except OSError:
        pass  # a read-only or full cache folder must not fail the command
