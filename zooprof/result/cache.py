"""A cache of analysis results by key, and the file hashes keys are made of.

A hit loads a ProfileResult from JSON without importing any framework. What a key covers is
decided by `zooprof.measure.cache_key`; this module only stores and finds results by it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from zooprof.errors import UsageError
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


#: A model folder is hashed down to this depth and up to this many files; a deeper or
#: larger one is refused (a model export is a handful of files a level or two deep).
MAX_FOLDER_DEPTH = 32
MAX_FOLDER_FILES = 10_000


def folder_files(folder: Path) -> list[Path]:
    """The regular files below `folder` (symlinked folders not followed), walked iteratively;
    a UsageError beyond MAX_FOLDER_DEPTH levels or MAX_FOLDER_FILES files."""
    files: list[Path] = []
    stack = [(folder, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_FOLDER_DEPTH:
            raise UsageError(
                f"{folder.name} has folders nested more than {MAX_FOLDER_DEPTH} levels deep (at {current.name})",
                "give the model's own folder (a model export is a few files a level or two deep)",
            )
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue  # unreadable folder: nothing of it can be part of the model either
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), depth + 1))
                elif entry.is_file():
                    files.append(Path(entry.path))
            except OSError:
                continue
            if len(files) > MAX_FOLDER_FILES:
                raise UsageError(
                    f"{folder.name} holds more than {MAX_FOLDER_FILES:,} files",
                    "give the model's own folder (a model export is a few files)",
                )
    return sorted(files)


def path_hash(path: Path) -> str:
    """A file's hash, or a folder's: every file below it, by relative name and contents."""
    if path.is_file():
        return file_hash(str(path))
    h = hashlib.sha256()
    for p in folder_files(path):
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
