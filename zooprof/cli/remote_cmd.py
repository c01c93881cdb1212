"""`zooprof remote check HOST`: what a board has for `zooprof profile --on HOST`, and what it lacks."""

from __future__ import annotations

import json
from typing import Any

import typer

app = typer.Typer(help="Boards reached over SSH (zooprof profile --on HOST).", no_args_is_help=True)

HINTS = {
    "onnxruntime": "pip3 install the onnxruntime-gpu wheel built for this JetPack and Python "
    "(Jetson Zoo: elinux.org/Jetson_Zoo#ONNX_Runtime)",
    "tflite_runtime": "pip3 install tflite-runtime (or ai-edge-litert on Python 3.9+)",
    "ai_edge_litert": "pip3 install ai-edge-litert (Python 3.9+), or tflite-runtime",
    "numpy": "sudo apt install python3-numpy",
    "torch": "NVIDIA's PyTorch wheel for this JetPack (not needed: zooprof sends ONNX or TFLite)",
    "trtexec": "it ships with JetPack (sudo apt install nvidia-jetpack, or tensorrt); /usr/src/tensorrt/bin/trtexec",
}


def _lines(found: dict[str, Any]) -> list[str]:
    board = found.get("board") or {}
    out = [
        f"python      {found.get('python')} (the agent needs 3.6 or newer)",
        f"board       {board.get('model') or 'n/a (no /proc/device-tree/model)'}",
        f"JetPack     {board.get('jetpack') or 'n/a'} (L4T {board.get('l4t_release') or 'n/a'})",
        f"power mode  {board.get('nvpmodel')}",
        f"clocks      {board.get('jetson_clocks')}",
        f"GPU         {board.get('gpu')}",
    ]
    for name, info in (found.get("runtimes") or {}).items():
        if "missing" in info:
            out.append(f"{name:<11} missing: {HINTS.get(name, info['missing'])}")
        else:
            extra = f", providers {', '.join(info['providers'])}" if info.get("providers") else ""
            out.append(f"{name:<11} {info.get('version') or info.get('path')}{extra}")
    rails = found.get("rails") or []
    out.append(
        f"power       INA3221 rails {', '.join(rails)}"
        if rails
        else "power       no INA3221 rails (energy is n/a on this board; tegrastats: "
        + (found.get("tegrastats") or "not found")
        + ")"
    )
    out.append(
        "sudo        without a password: nvpmodel / jetson_clocks can be read and set"
        if found.get("sudo_without_password")
        else "sudo        needs a password: nvpmodel -q may fail; allow it with a sudoers rule, e.g. "
        "'%sudo ALL=(root) NOPASSWD: /usr/sbin/nvpmodel, /usr/bin/jetson_clocks'"
    )
    free = found.get("cache_free_bytes")
    if free is not None:
        out.append(f"disk        {free / 2**30:.1f} GiB free in the agent's cache")
    return out


@app.command("check")
def check(
    host: str = typer.Argument(..., help="user@host, user@host:port or a ~/.ssh/config host."),
    ssh_config: str = typer.Option(None, "--ssh-config", help="An ssh_config file (ssh -F FILE)."),
    board_python: str = typer.Option(
        None, "--board-python", help="The board's Python for the agent (default python3)."
    ),
    trtexec: str = typer.Option(None, "--trtexec", help="Where trtexec is on the board (default: PATH, JetPack's)."),
    timeout: float = typer.Option(60.0, "--timeout", min=1, help="Seconds for the check on the board."),
    as_json: bool = typer.Option(False, "--json", help="Print what the board reported as JSON."),
) -> None:
    """Connect, copy the agent if needed, and list what the board has and lacks (with install hints)."""
    from zooprof.remote.board import Board
    from zooprof.remote.run import board_root
    from zooprof.remote.ssh import parse_target

    board = Board(parse_target(host), ssh_config, board_python)
    try:
        job: dict[str, Any] = {"sysfs_root": board_root()} if board_root() else {}
        if trtexec:
            job["trtexec"] = trtexec
        found = board.agent("check", job, timeout, lambda info: typer.echo(info.get("phase", ""), err=True))
    finally:
        board.close()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(f"{host}: agent {board.agent_hash} ({'copied' if board.copied.get('agent') else 'already there'})")
    typer.echo("\n".join("  " + line for line in _lines(found)))
