"""Assignment files: validated with the line, the key and what is allowed; the matrix of cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from zooprof.errors import UsageError
from zooprof.sweep.matrix import cell_key, cell_label, load_assignment, machine_fingerprint

LABS = Path(__file__).resolve().parents[2] / "labs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "a.toml"
    path.write_text(text)
    return path


def test_lab1_expands_to_its_24_cells() -> None:
    a = load_assignment(LABS / "lab1.toml")
    cells = a.cells()
    assert len(cells) == 3 * 2 * 2 * 2  # models x runtimes x batches x power modes
    assert [c["power_mode"] for c in cells[:12]] == ["MAXN"] * 12  # power mode outermost
    assert {c["model"] for c in cells} == {"mnist-mlp", "alexnet-2012", "mobilenet_v2"}
    assert len({cell_key(c) for c in cells}) == 24
    assert cell_label(cells[0]) == "mnist-mlp torch b1 mode MAXN"


def test_lab2_default_runtime_and_repeats() -> None:
    cells = load_assignment(LABS / "lab2.toml").cells()
    assert len(cells) == 3 * 2 and all(c["runtime"] is None for c in cells)
    assert [c["repeat"] for c in cells[:2]] == [0, 1] and cell_key(cells[0]) != cell_key(cells[1])


def test_cell_key_ignores_nothing_that_matters() -> None:
    base = {"model": "m", "runtime": "torch", "batch": 1, "repeat": 0}
    assert cell_key(base) == cell_key(dict(base))
    assert cell_key(base) != cell_key({**base, "batch": 8}) != cell_key({**base, "precision": "fp16"})


def test_machine_fingerprint_is_the_board_not_the_host_name() -> None:
    env = {"board": {"model": "Jetson Nano", "l4t_release": "32.7.1"}, "cpu_model": "ARMv8", "memory_bytes": 4}
    assert machine_fingerprint(env) == machine_fingerprint({**env, "hostname": "other"})
    assert machine_fingerprint(env) != machine_fingerprint({**env, "memory_bytes": 8})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[assignment]\nname = 'x'\n", "[matrix]: 'models' is required"),
        ("[matrix]\nmodels = ['m']\n", "[assignment]: 'name' is required"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nbatchez = [1]\n", ":5: [matrix] batchez: unknown key"),
        (
            "[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nbatches = ['8']\n",
            ":5: [matrix] batches: must be list of integers",
        ),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nbatches = [0]\n", "every value must be 1 or more"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = []\n", ":4: [matrix] models: must not be empty"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nruntimes = ['tvm']\n", "unknown runtime 'tvm'"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\ndevices = ['tpu']\n", "malformed --device 'tpu'"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nprecisions = ['fp8']\n", "unknown --precision 'fp8'"),
        (
            "[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\n[matrix.input_shapes]\nn = '1x3'\n",
            "'n' is not one of the models",
        ),
        (
            "[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\n[measure]\nmax_time = 0\n",
            ":6: [measure] max_time: must be above 0",
        ),
        (
            "[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\n[measure]\nmemory_limit = '12Q'\n",
            ":6: [measure] memory_limit: malformed --memory-limit '12Q'",
        ),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\n[grades]\nx = 1\n", "[grades]: unknown section"),
        ("[assignment\nname = 'x'\n", "not valid TOML"),
        ("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nrepeats = true\n", "repeats: must be integer"),
    ],
)
def test_bad_assignments_name_the_line_key_and_what_is_allowed(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        load_assignment(write(tmp_path, text))
    assert message in exc.value.message, exc.value.message
    assert "docs/labs.md" in (exc.value.hint or "")


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read assignment"):
        load_assignment(tmp_path / "none.toml")


def test_the_memory_limit_of_measure_reaches_each_cell_run_here(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from zooprof.sweep.cell import profile_options

    text = "[assignment]\nname = 'x'\n[matrix]\nmodels = ['mnist-mlp']\n[measure]\nmemory_limit = '4G'\n"
    assignment = load_assignment(write(tmp_path, text))
    (cell,) = assignment.cells()
    assert profile_options(assignment, cell).memory_limit == 4 * 2**30
    board = SimpleNamespace(on="user@board", ssh_config=None, board_python=None)
    assert profile_options(assignment, cell, board).memory_limit is None  # the board's agent: no watch there
