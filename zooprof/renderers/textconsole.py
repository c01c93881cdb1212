"""A rich Console that records instead of printing, for renderers that return text."""

from __future__ import annotations

from typing import Any


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass


def recording_console(width: int | None, color: bool | None = False) -> Any:
    from rich.console import Console

    return Console(
        record=True, width=width or 10_000, force_terminal=color, no_color=color is False, file=_Null(), highlight=False
    )


def exported(console: Any, color: bool | None = False) -> str:
    """The recorded text with trailing spaces removed (wide consoles pad every line)."""
    text = console.export_text(styles=bool(color))
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
