"""The optional watchdog: a tiny process outside the worker's group that kills the group when
the host is gone (a zombie or a reused pid counts as gone). Exits when the group is gone.

    python -m snakepit_bridge._internal.watchdog --host-pid P --target-pgid G [--interval-ms 500] [--grace-ms 2000]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import List, Optional

from . import procfs


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_gone(pgid: int) -> bool:
    return not procfs.group_members(pgid)


def watch(host_pid: int, target_pgid: int, interval_s: float, grace_s: float, host_start: Optional[int]) -> str:
    """Poll until the host or the group is gone; returns what happened."""
    while True:
        if _group_gone(target_pgid):
            return "group-gone"
        if not procfs.is_alive(host_pid, host_start):
            break
        time.sleep(interval_s)
    _killpg(target_pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if _group_gone(target_pgid):
            return "terminated"
        time.sleep(0.05)
    _killpg(target_pgid, signal.SIGKILL)
    return "killed"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snakepit_bridge._internal.watchdog")
    parser.add_argument("--host-pid", type=int, required=True)
    parser.add_argument("--target-pgid", type=int, required=True)
    parser.add_argument("--interval-ms", type=int, default=500)
    parser.add_argument("--grace-ms", type=int, default=2000)
    parser.add_argument("--host-start-time", type=int, default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if args.target_pgid <= 1 or args.target_pgid == os.getpgid(0):
        sys.stderr.write("watchdog: refusing to watch its own or an invalid process group\n")
        return 2
    watch(args.host_pid, args.target_pgid, max(args.interval_ms, 10) / 1000, max(args.grace_ms, 0) / 1000,
          args.host_start_time)
    return 0


if __name__ == "__main__":
    sys.exit(main())
