"""The zoo: a registry of named models read from TOML manifests (zoo/*.toml).

Entries point at lazy "module:attr" or "torchvision:NAME" sources, so listing the zoo
imports no framework. Registering a name twice is an error.
"""

from __future__ import annotations

import difflib
import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class ZooEntry:
    name: str
    task: str
    framework: str
    source: str
    input_shape: tuple[int, ...]
    description: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    twins: dict[str, str] = field(default_factory=dict)  # the same architecture in another framework
    manifest: str = ""

    @classmethod
    def from_toml(cls, path: Path) -> ZooEntry:
        data = tomllib.loads(path.read_text())
        try:
            return cls(
                name=data["name"],
                task=data["task"],
                framework=data["framework"],
                source=data["source"],
                input_shape=tuple(data["input_shape"]),
                description=data.get("description", ""),
                kwargs=data.get("kwargs", {}),
                reference=data.get("reference", {}),
                twins=data.get("twins", {}),
                manifest=str(path),
            )
        except KeyError as exc:
            raise ValueError(f"zoo manifest {path} lacks the key {exc}") from None


class Registry:
    def __init__(self) -> None:
        self._entries: dict[str, ZooEntry] = {}

    def register(self, entry: ZooEntry) -> None:
        if entry.name in self._entries:
            raise ValueError(
                f"zoo entry '{entry.name}' is defined twice: {self._entries[entry.name].manifest}, {entry.manifest}"
            )
        self._entries[entry.name] = entry

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> ZooEntry:
        return self._entries[name]

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def entries(self, pattern: str = "*") -> list[ZooEntry]:
        return [self._entries[n] for n in self.names(pattern)]

    def suggest(self, name: str, n: int = 5) -> list[str]:
        return difflib.get_close_matches(name, list(self._entries), n=n, cutoff=0.5)


def zoo_dir() -> Path:
    """The manifests folder: the source checkout's zoo/, else the installed zooprof.zoo package."""
    root = Path(__file__).resolve().parents[2]  # zooprof/reference/registry.py -> the checkout
    if (root / "pyproject.toml").is_file() and (root / "zoo").is_dir():
        return root / "zoo"
    from importlib.resources import files

    return Path(str(files("zooprof.zoo")))


_ZOO: Registry | None = None


def zoo() -> Registry:
    global _ZOO
    if _ZOO is None:
        reg = Registry()
        for path in sorted(zoo_dir().glob("*.toml")):
            reg.register(ZooEntry.from_toml(path))
        _ZOO = reg
    return _ZOO
