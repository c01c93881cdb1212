"""A pool of boards on Ray: the cells of a sweep handed out, one at a time per board, to every board
of a Ray cluster, each result handed back to the driver as soon as its cell ends.

Boards are Ray custom resources named ``board:NAME`` with capacity 1 on the node that drives the
board. The pool starts one actor per board that holds that resource, so a board never runs two
cells at once, and the driver keeps a work queue: each free board takes the next cell.

Setting up a cluster (every node runs the same Ray and Python version as the head, with zooprof
installed: ``pip install "zooprof[ray]"``)::

    # the head (the machine that runs `zooprof sweep`; it measures nothing itself)
    ray start --head --num-cpus 0                      # prints HEAD:6379; Ray Client on HEAD:10001
    # a board that runs Ray itself (a Jetson on JetPack 6: Python 3.10)
    ray start --address HEAD:6379 --resources '{"board:nano": 1}'
    # a board whose Python is older than 3.10 (JetPack 4 and 5) cannot join: a node of the
    # cluster drives it over SSH (`--on`) and holds its resource in its place, e.g. the head:
    ray start --head --num-cpus 0 --resources '{"board:tx2": 1}'

then ``run_pool(cells, run_cell, on_done, address="ray://HEAD:10001")`` (or ``"auto"`` on a node of
the cluster). ``run_cell(cell, board_name)`` runs on the board's node and must be importable there
(a module-level function); for a board over SSH it is what connects to that board.

Failures:

- ``run_cell`` raising, or returning something that is not a dict, fails that cell with the reason
  (the model's fault: not retried); the board goes on.
- ``run_cell`` raising ``BoardUnavailable`` (the board itself cannot be used: a board driven over
  SSH that does not answer) puts the cell back at the front of the queue, as a lost board does,
  and drops the board from the pool with that reason.
- A board that disappears while running a cell (its node killed, its worker process dead) has the
  cell put back at the front of the queue for the next free board, up to ``max_retries`` times,
  then failed with the reason. The pool tries to start the board's actor again; a board that does
  not come back within ``board_timeout`` seconds, or whose resource has left the cluster, is
  dropped. With no board left the remaining cells fail ("no board left (why each was lost)"): the
  pool never hangs.
- A cell that runs longer than ``cell_timeout`` fails ("timed out"); its board's actor is killed
  and started again, so the board is free for the next cell.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError

BOARD_PREFIX = "board:"
CLOSE_TIMEOUT_S = 10.0  # for idle actors to close what they hold (ssh connections) as the pool ends
#: how often the driver looks at the cluster's resources while a board is starting again
_POLL_S = 1.0

RunCell = Callable[[dict[str, Any], str], dict[str, Any]]
OnDone = Callable[[dict[str, Any], dict[str, Any]], None]
Progress = Callable[[dict[str, Any]], None]


@dataclass
class CellRun:
    """What happened to one cell: the board that ran it last, its wall times on that board (the
    board's own clock, time.time()), how many boards it was handed to, and its status."""

    index: int
    cell: dict[str, Any]
    status: str = "pending"  # "ok" (run_cell returned a dict) | "failed"
    board: str | None = None
    start: float | None = None
    end: float | None = None
    attempts: int = 0
    reason: str | None = None
    boards_tried: list[str] = field(default_factory=list)


@dataclass
class PoolReport:
    """Per cell, what the pool did; the boards it started with, and the ones it lost and why."""

    runs: list[CellRun]
    boards: list[str]
    lost: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ok(self) -> list[CellRun]:
        return [r for r in self.runs if r.status == "ok"]

    @property
    def failed(self) -> list[CellRun]:
        return [r for r in self.runs if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {"boards": self.boards, "lost": self.lost, "wall_s": self.wall_s, "runs": [asdict(r) for r in self.runs]}


class BoardUnavailable(Exception):
    """What `run_cell` raises when the board, not the cell, is at fault (its ssh target cannot be
    reached): the cell goes back to the queue and the board leaves the pool; the message (one
    line) is why."""


class BoardWorker:
    """The Ray actor of one board (started with that board's resource): runs one cell at a time."""

    def __init__(self, board: str, run_cell: RunCell) -> None:
        self.board = board
        self.run_cell = run_cell

    def ready(self) -> str:
        return self.board

    def close(self) -> None:
        """Free what `run_cell` holds between cells (a `close()` of its own, e.g. an ssh connection)."""
        close = getattr(self.run_cell, "close", None)
        if callable(close):
            close()

    def run(self, cell: dict[str, Any]) -> dict[str, Any]:
        start = time.time()
        try:
            result: Any = self.run_cell(cell, self.board)
            error = None if isinstance(result, dict) else f"run_cell returned {type(result).__name__}, not a dict"
        except BoardUnavailable as exc:  # the board's fault: the driver re-queues the cell
            why = _one_line(exc) if str(exc).strip() else "unavailable"
            return {"result": None, "error": None, "unavailable": why, "start": start, "end": time.time()}
        except Exception as exc:  # the cell's own failure, reported as its row
            result, error = None, f"{type(exc).__name__}: {exc}"
        return {"result": result, "error": error, "start": start, "end": time.time()}


def board_resources(resources: dict[str, float]) -> list[str]:
    """Board names in a cluster's resources (`ray.cluster_resources()`), sorted."""
    return sorted(
        key[len(BOARD_PREFIX) :] for key, amount in resources.items() if key.startswith(BOARD_PREFIX) and amount >= 1
    )


def run_pool(
    cells: list[dict[str, Any]],
    run_cell: RunCell,
    on_done: OnDone,
    *,
    address: str | None = None,
    boards: list[str] | None = None,
    max_retries: int = 2,
    progress: Progress | None = None,
    cell_timeout: float | None = None,
    board_timeout: float = 60.0,
) -> PoolReport:
    """Run every cell on the pool of boards; `on_done(cell, result)` on this process as each ends.

    `address`: a Ray cluster to connect to ("ray://HEAD:10001", "auto"); None uses this process's
    connection (`ray.init` already called) or `RAY_ADDRESS`; a local cluster is never started.
    `boards`: names of `board:NAME` resources (default: every one in the cluster). A failed cell's
    result is `{"status": "failed", "reason": ..., "board": ..., "attempts": ...}`. `progress`
    gets one dict per event ("started", "done", "failed", "retry", "board-lost")."""
    _check_arguments(cells, max_retries, cell_timeout, board_timeout)
    ray = _import_ray()
    connected_here = _connect(ray, address)
    try:
        names = _pick_boards(ray, boards)
        return _Pool(ray, cells, run_cell, on_done, names, max_retries, progress, cell_timeout, board_timeout).run()
    finally:
        if connected_here:
            ray.shutdown()


def _check_arguments(cells: Any, max_retries: int, cell_timeout: float | None, board_timeout: float) -> None:
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise UsageError("the pool's cells must be a list of dicts", "pass the sweep's cells as plain dicts")
    if not isinstance(max_retries, int) or max_retries < 0:
        raise UsageError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
    if cell_timeout is not None and not cell_timeout > 0:
        raise UsageError(f"cell_timeout must be a number of seconds > 0, not {cell_timeout!r}")
    if not board_timeout > 0:
        raise UsageError(f"board_timeout must be a number of seconds > 0, not {board_timeout!r}")


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(
            "a pool of boards needs Ray, which is not installed", 'pip install "zooprof[ray]"'
        ) from exc
    return ray


def _connect(ray: Any, address: str | None) -> bool:
    """Connect to the cluster at `address`; True if this call made the connection."""
    if ray.is_initialized():
        return False
    if address is None and not os.environ.get("RAY_ADDRESS"):
        raise UsageError(
            "no Ray cluster to run the pool on",
            "pass the cluster's address (ray://HEAD:10001, or auto on one of its nodes); start one with `ray start --head`",
        )
    try:
        ray.init(address=address, logging_level="ERROR")
    except ImportError as exc:  # ray:// needs Ray Client (grpcio), which a bare `pip install ray` lacks
        raise MissingDependencyError(
            f"connecting to {address} needs Ray Client ({exc.name or exc})", 'pip install "zooprof[ray]"'
        ) from exc
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(
            f"cannot connect to the Ray cluster at {address or os.environ.get('RAY_ADDRESS')}: {first_line}",
            "check that the head runs (`ray start --head`) and that the address is ray://HEAD:10001 or auto",
        ) from exc
    return True


def _pick_boards(ray: Any, boards: list[str] | None) -> list[str]:
    available = board_resources(ray.cluster_resources())
    if boards is None:
        if not available:
            raise UsageError(
                "the Ray cluster has no boards (no `board:NAME` resource)",
                "start each board's node with `ray start --address HEAD:6379 --resources '{\"board:nano\": 1}'`",
            )
        return available
    names = list(dict.fromkeys(boards))
    missing = [n for n in names if n not in available]
    if not names or missing:
        have = ", ".join(available) or "none"
        raise UsageError(
            f"board {', '.join(missing) or '(none given)'} is not in the Ray cluster (its boards: {have})",
            "name boards the cluster has, or start that board's node with "
            f"`ray start --address HEAD:6379 --resources '{{\"board:{(missing or ['NAME'])[0]}\": 1}}'`",
        )
    return names


class _Pool:
    """The driver loop: a queue of cell indices, one actor per board, results as they come."""

    def __init__(
        self,
        ray: Any,
        cells: list[dict[str, Any]],
        run_cell: RunCell,
        on_done: OnDone,
        boards: list[str],
        max_retries: int,
        progress: Progress | None,
        cell_timeout: float | None,
        board_timeout: float,
    ) -> None:
        self.ray = ray
        self.run_cell = run_cell
        self.on_done = on_done
        self.max_retries = max_retries
        self.progress = progress
        self.cell_timeout = cell_timeout
        self.board_timeout = board_timeout
        self.report = PoolReport([CellRun(i, cell) for i, cell in enumerate(cells)], list(boards))
        self.queue: deque[int] = deque(range(len(cells)))
        self.actors: dict[str, Any] = {}
        self.idle: deque[str] = deque()
        self.starting: dict[Any, tuple[str, float]] = {}  # ready ref -> (board, give-up time)
        self.restarted: set[str] = set()  # boards whose actor had to be started again
        self.running: dict[Any, tuple[str, int, float | None]] = {}  # result ref -> (board, cell, deadline)
        self.remote_class = ray.remote(num_cpus=0, max_restarts=0, max_task_retries=0)(BoardWorker)

    def run(self) -> PoolReport:
        began = time.monotonic()
        try:
            for board in self.report.boards:
                self._start(board)
            while self.queue or self.running:
                self._dispatch()
                if not self.running and not self.starting:
                    why = "; ".join(f"{board}: {reason}" for board, reason in self.report.lost.items())
                    self._fail_rest(f"no board left ({why})" if why else "no board left")
                    break
                self._wait()
        finally:
            self._close_idle()
            for actor in self.actors.values():
                self._kill(actor)
        for board, _ in self.starting.values():
            if board in self.restarted:
                self.report.lost[board] = "lost under a cell; not back when the last cell ended"
        self.report.wall_s = time.monotonic() - began
        return self.report

    def _start(self, board: str) -> None:
        actor = self.remote_class.options(resources={f"{BOARD_PREFIX}{board}": 1}).remote(board, self.run_cell)
        self.actors[board] = actor
        self.starting[actor.ready.remote()] = (board, time.monotonic() + self.board_timeout)

    def _dispatch(self) -> None:
        while self.queue and self.idle:
            board, index = self.idle.popleft(), self.queue.popleft()
            run = self.report.runs[index]
            run.attempts += 1
            run.boards_tried.append(board)
            deadline = None if self.cell_timeout is None else time.monotonic() + self.cell_timeout
            self.running[self.actors[board].run.remote(run.cell)] = (board, index, deadline)
            self._tell("started", run, board)

    def _wait(self) -> None:
        refs = list(self.running) + list(self.starting)
        deadlines = [d for _, _, d in self.running.values() if d is not None]
        deadlines += [d for _, d in self.starting.values()]
        timeout = None
        if deadlines:
            timeout = max(0.0, min(deadlines) - time.monotonic())
        if self.starting:
            timeout = _POLL_S if timeout is None else min(timeout, _POLL_S)
        ready, _ = self.ray.wait(refs, num_returns=1, timeout=timeout)
        for ref in ready:
            if ref in self.running:
                self._finished(ref, *self.running.pop(ref))
            else:
                self._started(ref, *self.starting.pop(ref))
        self._expire()

    def _started(self, ref: Any, board: str, _give_up: float) -> None:
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self._drop(board, f"its actor did not start ({_one_line(exc)}): is zooprof installed on its node?")
            return
        self.restarted.discard(board)
        self.idle.append(board)

    def _finished(self, ref: Any, board: str, index: int, _deadline: float | None) -> None:
        run = self.report.runs[index]
        try:
            out = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # raised inside the actor, outside run_cell
            self.idle.append(board)
            self._fail(run, board, f"{_one_line(exc)}")
            return
        except self.ray.exceptions.RayError as exc:  # the actor, its worker or its node is gone
            self._board_lost(board, index, exc)
            return
        if out.get("unavailable"):
            self._board_unavailable(board, index, out["unavailable"])
            return
        self.idle.append(board)
        run.board, run.start, run.end = board, out["start"], out["end"]
        if out["error"] is not None:
            self._fail(run, board, out["error"])
            return
        run.status = "ok"
        self.on_done(run.cell, out["result"])
        self._tell("done", run, board)

    def _board_lost(self, board: str, index: int, exc: BaseException) -> None:
        """The board's actor died under a cell: the cell goes back to the queue (or fails after
        `max_retries` retries); the board's actor is started again, if its node is still there."""
        run = self.report.runs[index]
        why = f"board {board} was lost while running it ({type(exc).__name__})"
        self._tell("board-lost", run, board, reason=_one_line(exc))
        if run.attempts <= self.max_retries:
            self.queue.appendleft(index)
            self._tell("retry", run, board, reason=why)
        else:
            self._fail(run, board, f"{why}; gave up after {run.attempts} attempts")
        self._restart(board)

    def _board_unavailable(self, board: str, index: int, why: str) -> None:
        """run_cell said the board cannot be used (BoardUnavailable): the board leaves the pool, the
        cell goes back to the queue (or fails after `max_retries` retries)."""
        run = self.report.runs[index]
        self._drop(board, why)
        if run.attempts <= self.max_retries:
            self.queue.appendleft(index)
            self._tell("retry", run, board, reason=f"board {board} is unavailable: {why}")
        else:
            self._fail(run, board, f"board {board} is unavailable: {why}; gave up after {run.attempts} attempts")

    def _restart(self, board: str) -> None:
        self._kill(self.actors.pop(board))
        self.restarted.add(board)
        if f"{BOARD_PREFIX}{board}" in self.ray.cluster_resources():
            self._start(board)
        else:
            self._drop(board, "its node left the cluster")

    def _expire(self) -> None:
        now = time.monotonic()
        for ref, (board, index, deadline) in list(self.running.items()):
            if deadline is not None and now >= deadline:
                del self.running[ref]
                run = self.report.runs[index]
                run.board = board
                self._fail(run, board, f"timed out after {self.cell_timeout:g} s on board {board}")
                self._restart(board)
        resources = self.ray.cluster_resources() if self.starting else {}
        for ref, (board, give_up) in list(self.starting.items()):
            if now >= give_up:
                del self.starting[ref]
                self._drop(board, f"it did not come back within {self.board_timeout:g} s")
            elif f"{BOARD_PREFIX}{board}" not in resources:
                del self.starting[ref]
                self._drop(board, "its node left the cluster")

    def _drop(self, board: str, why: str) -> None:
        actor = self.actors.pop(board, None)
        if actor is not None:
            self._kill(actor)
        self.report.lost[board] = why
        if self.progress is not None:
            self.progress({"event": "board-lost", "board": board, "reason": why, **self._counts()})

    def _fail(self, run: CellRun, board: str | None, reason: str) -> None:
        run.status, run.reason = "failed", reason
        self.on_done(run.cell, {"status": "failed", "reason": reason, "board": board, "attempts": run.attempts})
        self._tell("failed", run, board, reason=reason)

    def _fail_rest(self, reason: str) -> None:
        while self.queue:
            self._fail(self.report.runs[self.queue.popleft()], None, reason)

    def _close_idle(self) -> None:
        """Ask each idle actor to free what its run_cell holds (within CLOSE_TIMEOUT_S) before the
        actors are killed; an actor still under a cell (Ctrl-C, an error) is only killed."""
        refs = [self.actors[b].close.remote() for b in self.idle if b in self.actors]
        if refs:
            try:
                self.ray.wait(refs, num_returns=len(refs), timeout=CLOSE_TIMEOUT_S)
            except Exception:  # the cluster is gone: nothing left to close
                pass

    def _kill(self, actor: Any) -> None:
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # already dead, or the cluster is gone: nothing left to free
            pass

    def _counts(self) -> dict[str, int]:
        runs = self.report.runs
        return {
            "ok": sum(r.status == "ok" for r in runs),
            "failed": sum(r.status == "failed" for r in runs),
            "total": len(runs),
        }

    def _tell(self, event: str, run: CellRun, board: str | None, reason: str | None = None) -> None:
        if self.progress is not None:
            info = {"event": event, "index": run.index, "cell": run.cell, "board": board, "attempt": run.attempts}
            self.progress({**info, "reason": reason, **self._counts()})


def _one_line(exc: BaseException) -> str:
    """An error from Ray in one line: its innermost "SomeError: message" line if it carries a
    traceback (a failed actor start: why the node could not import run_cell), else its first
    (a BoardUnavailable: its own message)."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    if isinstance(exc, BoardUnavailable):
        return lines[0]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    return errors[-1] if errors else f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
