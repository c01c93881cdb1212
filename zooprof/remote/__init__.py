"""Profiling on a board from a laptop: `zooprof profile --on HOST` over SSH.

The host converts models, copies a small agent (`agent.py`, standard library only, Python 3.6+)
and the modules it shares with zooprof (BOARD_MODULES) to the board, runs it with a job on
stdin, and merges the board's measurement and record into a ProfileResult.
"""

#: zooprof modules the board agent imports: standard library only, Python 3.6 compatible
#: (JetPack 4.6 ships 3.6.9), checked with vermin by `make lint` and tests/remote/test_py36.py.
BOARD_MODULES = (
    "zooprof/measure/stats.py",
    "zooprof/measure/timing.py",
    "zooprof/sensors/ina3221.py",
    "zooprof/sensors/jetson_board.py",
    "zooprof/sensors/board_record.py",
    "zooprof/sensors/board_power.py",
    "zooprof/sensors/proc_status.py",
    "zooprof/remote/agent.py",
)
