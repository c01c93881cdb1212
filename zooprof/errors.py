"""Errors a user can act on. The CLI prints them as one line (no traceback without --debug)."""

from __future__ import annotations


class ZooprofError(Exception):
    """A problem with the user's input or environment: what is wrong, and what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ZooprofError):
    """Bad command-line input: unknown model, malformed option. Exit code 2."""

    exit_code = 2


class ModelShapeError(ZooprofError):
    """The model cannot run on the given input shape; names the layer where it breaks."""

    exit_code = 2


class MissingDependencyError(ZooprofError):
    """An optional framework is not installed; says which extra to install."""

    exit_code = 2
