"""`InlinePolicy`: which thread-profile calls run on the serving thread (see frame_server.py).

A tool whose calls take microseconds costs more to hand to a call thread and back (a queue, a
wake-up, the GIL passed twice) than to run: 100-byte echo at c=8 through call threads cost 50 to
52 µs of Python CPU per call, on the serving thread 29 to 35 µs (bench/cpu-per-call.mjs with
PROFILE=thread). So a unary call of a sync tool runs on the serving thread when its tool is
quick, but only a tool known to be quick: one that blocks (I/O, a lock, a sleep) would hold up
every call read after it, which is what call threads are for.

Quick means the tool's CPU time per call, averaged (the newest weighs 1/5), is under `under_s`.
CPU time and not wall time: on a call thread a tool's wall time includes waiting for the GIL
behind the other call threads (64 threads, ~1 ms for a 20 µs echo), which would make every tool
look slow. CPU time cannot tell a blocking tool from a quick one, so a call that ran on the serving
thread and took longer than `slow_s` of wall time bars its tool from the serving thread for the
next `first_bar` calls, twice as many each time its next call there is slow again: a blocking
tool is tried there once, then after 64, 128, 256 ... calls; a quick tool that met one slow call
(a GC pause, the OS running another process for a few ms) comes back after 64, and its next quick
call there starts the count over.

Pure (times are passed in) and shared by the reading and call threads: each update is a few dict
operations, atomic under the GIL; a lost update only delays a decision by one call.
"""

from __future__ import annotations

from typing import Dict

_SMOOTHING = 0.2


class InlinePolicy:
    def __init__(self, under_s: float = 0.0005, slow_s: float = 0.005, first_bar: int = 64) -> None:
        self._under_s = under_s
        self._slow_s = slow_s
        self._first_bar = first_bar
        self._cpu: Dict[str, float] = {}  # tool -> CPU seconds per call, averaged
        self._barred: Dict[str, int] = {}  # tool -> calls left before it may run inline again
        self._bar: Dict[str, int] = {}  # tool -> the length of its last bar

    def inline(self, tool: str) -> bool:
        """True when the next call of `tool` should run on the serving thread (counts a barred call)."""
        cpu = self._cpu.get(tool)
        if cpu is None or cpu >= self._under_s:
            return False
        left = self._barred.get(tool, 0)
        if left > 0:
            self._barred[tool] = left - 1
            return False
        return True

    def ran(self, tool: str, cpu_s: float, wall_s: float, inline: bool) -> None:
        """Records a call of `tool`: its CPU and wall time, and where it ran."""
        usual = self._cpu.get(tool)
        self._cpu[tool] = cpu_s if usual is None else usual + _SMOOTHING * (cpu_s - usual)
        if not inline:
            return
        if wall_s >= self._slow_s:
            bar = self._bar.get(tool, self._first_bar // 2) * 2
            self._bar[tool] = bar
            self._barred[tool] = bar
        elif tool in self._bar:
            del self._bar[tool]


__all__ = ["InlinePolicy"]
