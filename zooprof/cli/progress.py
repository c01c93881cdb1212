"""Progress of measurements on stderr, shared by every command that measures."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A live line on a terminal, one line per measurement otherwise. Use as a context manager;
    call it with (label, info) where info has "phase" or "iterations"/"elapsed"/"ci_rel"."""

    def __enter__(self) -> Progress:
        self.tty = sys.stderr.isatty()
        self.status: Any = None
        if self.tty:
            from rich.console import Console

            self.status = Console(stderr=True).status("starting...")
            self.status.__enter__()
        return self

    def __call__(self, label: str, info: dict[str, Any]) -> None:
        phase = info.get("phase")
        if phase == "done" and info.get("status") == "failed" and info.get("reason"):
            # a failed row's reason, kept on screen as it happens: the report may go to a file
            failure = f" ({info['failure']})" if info.get("failure") else ""
            line = f"{label}: failed{failure}: {info['reason']}"
            if self.status is not None:
                self.status.console.print(line, markup=False, highlight=False)
            else:
                print(line, file=sys.stderr, flush=True)
            return
        if self.status is not None:
            if "iterations" in info:
                ci = info.get("ci_rel")
                ci_text = f", CI ±{100 * ci:.1f}%" if ci is not None and ci == ci else ""
                self.status.update(f"{label}: {info['iterations']} iterations, {info['elapsed']:.1f} s{ci_text}")
            elif phase:
                self.status.update(f"{label}: {phase}")
            if info.get("note"):  # a step worth keeping on screen (a copy to a board, a cache hit)
                self.status.console.print(f"{label}: {phase}")
        elif phase in ("starting", "done") or info.get("note"):
            extra = f" ({info['status']})" if phase == "done" else ""
            print(f"{label}: {phase}{extra}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)
