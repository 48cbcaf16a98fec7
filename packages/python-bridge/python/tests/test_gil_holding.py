"""The host-gone exit path's system calls that keep the GIL, and the liveness facts they feed."""

import os
import subprocess
import sys

import pytest

from snakepit_bridge._internal import gil_holding, procfs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc and libc")


def test_has_children_sees_a_child_until_it_is_reaped(tmp_path):
    assert not gil_holding.has_children()
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert gil_holding.has_children()
    finally:
        child.kill()
        child.wait()
    assert not gil_holding.has_children()


def test_read_file_and_unlink(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert gil_holding.read_file(str(path)) == b"x" * 10
    assert gil_holding.read_file(str(path), limit=4) == b"xxxx"
    assert gil_holding.read_file(str(tmp_path / "missing")) is None
    gil_holding.unlink(str(path))
    assert not path.exists()
    gil_holding.unlink(str(path))  # already gone: ignored
    assert gil_holding.read_file(f"/proc/{os.getpid()}/stat").startswith(f"{os.getpid()} (".encode())


def _stat(flags: int, state: str = "S") -> bytes:
    # pid (comm) state ppid pgrp session tty tpgid flags ... (start time is field 22)
    fields = [state, "1", "7", "7", "0", "-1", str(flags)] + ["0"] * 12 + ["4242"]
    return f"7 (a (b) c) {' '.join(fields)}".encode()


def test_a_process_in_its_exit_path_is_dead_only_when_asked():
    exiting = 0x4 | 0x400000  # PF_EXITING, as a SIGKILLed process shows it while its memory is freed
    read_exiting = lambda _path: _stat(exiting, "R")  # noqa: E731 - a one-line fake /proc reader
    assert procfs.is_alive(7, read=read_exiting)
    assert not procfs.is_alive(7, exiting_is_dead=True, read=read_exiting)
    assert procfs.is_alive(7, 4242, exiting_is_dead=True, read=lambda _path: _stat(0x400000))
    assert not procfs.is_alive(7, 4243, exiting_is_dead=True, read=lambda _path: _stat(0x400000))
    assert not procfs.is_alive(7, read=lambda _path: _stat(0x400000, "Z"))
    assert not procfs.is_alive(7, read=lambda _path: None)
