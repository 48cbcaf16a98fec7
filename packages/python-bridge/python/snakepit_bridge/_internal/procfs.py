"""Process facts from /proc: liveness (a zombie is dead), start time, process-group members."""

from __future__ import annotations

import functools
import os
from typing import Callable, Dict, List, Optional

Reader = Callable[[str], Optional[bytes]]


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid: int, read: Reader = _read) -> Optional[List[str]]:
    raw = read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    data = raw.decode("utf-8", "replace")
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rfind(")") + 2 :].split()
    return ["", "", *rest]  # so that fields[n - 1] is field n (1-based, as in proc(5))


@functools.lru_cache(maxsize=None)
def has_procfs() -> bool:
    return os.path.isdir("/proc/self")


def start_time(pid: int) -> Optional[int]:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), or None when unknown."""
    fields = _stat_fields(pid)
    return int(fields[21]) if fields and len(fields) > 21 else None


# `PF_EXITING` in the kernel's flags word (field 9 of /proc/<pid>/stat): the process is in its exit
# path. A SIGKILLed process shows it at once, while its memory is still being freed (tens of
# milliseconds for a large one) and long before it becomes a zombie.
_PF_EXITING = 0x4


def is_alive(pid: int, expected_start_time: Optional[int] = None, exiting_is_dead: bool = False,
             read: Reader = _read) -> bool:
    """True when `pid` runs and is not a zombie (and, if given, started at `expected_start_time`).
    `exiting_is_dead`: a process already in its exit path (killed, or exiting) counts as dead, as it
    cannot come back. `read` reads /proc/<pid>/stat (the host-gone path passes one that keeps the GIL)."""
    if pid <= 0:
        return False
    if has_procfs():
        fields = _stat_fields(pid, read)
        if fields is None or fields[2] in ("Z", "X", "x"):
            return False
        if exiting_is_dead and len(fields) > 8 and int(fields[8]) & _PF_EXITING:
            return False
        return expected_start_time is None or int(fields[21]) == expected_start_time
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_members(pgid: int) -> List[int]:
    """Live (non-zombie) pids whose process group is `pgid`."""
    if not has_procfs():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields and len(fields) > 5 and fields[2] not in ("Z", "X", "x") and int(fields[4]) == pgid:
            members.append(int(entry))
    return members


def descendants(pid: int) -> List[int]:
    """Live descendants of `pid` (used when the worker does not lead its own process group)."""
    if not has_procfs():
        return []
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and fields[2] not in ("Z", "X", "x"):
                children.setdefault(int(fields[3]), []).append(int(entry))
    found: List[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
