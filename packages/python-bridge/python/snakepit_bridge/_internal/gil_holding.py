"""The few system calls of the host-gone exit path, made without giving up the GIL.

A Python thread releases the GIL around every system call (`os.read`, `os.waitid`, `os.unlink`,
`open`). While a tool burns CPU in another thread, getting it back takes the switch interval
(5 ms) and, on a loaded machine, a turn of the scheduler for each thread involved: tens of
milliseconds per call. Through `ctypes.PyDLL` a C function runs with the GIL held, so once the
thread that noticed the host's death has the GIL, nothing else in the process runs until it
exits. Only short, non-blocking calls go through here. Where ctypes or libc is unavailable each
function falls back to its `os` equivalent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
from typing import Optional

_SIGINFO_SIZE = 128  # sizeof(siginfo_t) on Linux


@functools.lru_cache(maxsize=None)
def libc() -> Optional[ctypes.PyDLL]:
    """The C library as a `PyDLL` (calls keep the GIL), loaded once; None where unavailable (the
    fork server loads it before forking)."""
    try:
        lib = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        lib.waitid.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_int]
        lib.open.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        lib.read.restype = ctypes.c_ssize_t
        lib.close.argtypes = [ctypes.c_int]
        lib.unlink.argtypes = [ctypes.c_char_p]
    except (OSError, AttributeError):
        return None
    return lib


def has_children() -> bool:
    """Whether this process has a child process, exited or not (reaps nothing)."""
    lib = libc()
    if lib is None:
        try:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return True
    info = ctypes.create_string_buffer(_SIGINFO_SIZE)
    if lib.waitid(os.P_ALL, 0, info, os.WEXITED | os.WNOHANG | os.WNOWAIT) == 0:
        return True
    return ctypes.get_errno() != errno.ECHILD


def read_file(path: str, limit: int = 4096) -> Optional[bytes]:
    """The first `limit` bytes of a small file (one `read`: meant for /proc), or None on failure."""
    lib = libc()
    if lib is None:
        try:
            with open(path, "rb") as f:
                return f.read(limit)
        except OSError:
            return None
    fd = lib.open(os.fsencode(path), os.O_RDONLY | os.O_CLOEXEC)
    if fd < 0:
        return None
    try:
        buffer = ctypes.create_string_buffer(limit)
        size = lib.read(fd, buffer, limit)
        return buffer.raw[:size] if size >= 0 else None
    finally:
        lib.close(fd)


def unlink(path: str) -> None:
    """Remove a file; errors are ignored."""
    lib = libc()
    if lib is None:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    lib.unlink(os.fsencode(path))
