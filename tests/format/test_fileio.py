"""shsync.format.fileio: every file shsync reads is opened once, a regular file, and bounded."""

from __future__ import annotations

import os
import socket

import pytest

from shsync.format import fileio
from shsync.errors import UserError


def problem(path, **kwargs):
    with pytest.raises(fileio.FileProblem) as info:
        fileio.read_bytes(path, **kwargs)
    return info.value.render()


def test_a_regular_file_is_read_whole(tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 3_000_000)
    assert fileio.read_bytes(tmp_path / "f") == b"x" * 3_000_000


def test_devices_fifos_sockets_and_directories_are_not_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        assert problem(tmp_path / "sock", name="sock") == \
            "sock: error[not-a-file]: a socket, not a regular file"
    assert problem("/dev/zero") == \
        "/dev/zero: error[not-a-file]: a character device, not a regular file"
    assert problem(tmp_path / "fifo", name="fifo") == \
        "fifo: error[not-a-file]: a FIFO (named pipe), not a regular file"
    assert problem(tmp_path, name="d") == "d: error[not-a-file]: a directory, not a regular file"


def test_a_missing_file_is_unreadable(tmp_path):
    assert problem(tmp_path / "nope", name="nope") == \
        "nope: error[unreadable]: cannot read: no such file or directory"


def test_the_size_bound_defaults_to_256_mib_and_follows_the_variable(tmp_path, monkeypatch):
    assert fileio.limit() == 256 * 1024 * 1024
    (tmp_path / "f").write_bytes(b"12345678901")
    monkeypatch.setenv("SHSYNC_MAX_FILE_BYTES", "10")
    assert problem(tmp_path / "f", name="f") == (
        "f: error[file-too-large]: the file is 11 bytes; the limit is 10 (set "
        "SHSYNC_MAX_FILE_BYTES to raise it)")
    monkeypatch.setenv("SHSYNC_MAX_FILE_BYTES", "11")
    assert fileio.read_bytes(tmp_path / "f") == b"12345678901"


@pytest.mark.parametrize("value", ["x", "-1", "0", "1e9", "9" * 30, "١٢"])
def test_a_malformed_bound_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("SHSYNC_MAX_FILE_BYTES", value)
    with pytest.raises(UserError) as info:
        fileio.limit()
    assert info.value.code == "invalid-setting"
    assert str(info.value).startswith("SHSYNC_MAX_FILE_BYTES=")


def test_a_file_that_grows_while_read_is_still_bounded(tmp_path, monkeypatch):
    # fstat says small, the reads say more: what was read decides.
    (tmp_path / "f").write_bytes(b"x" * 100)
    real_fstat = os.fstat

    class Small:
        def __init__(self, info):
            self.st_mode, self.st_size = info.st_mode, 1

    monkeypatch.setattr(fileio.os, "fstat", lambda fd: Small(real_fstat(fd)))
    assert problem(tmp_path / "f", name="f", max_bytes=10) == (
        "f: error[file-too-large]: the file is more than 10 bytes; the limit is 10 (set "
        "SHSYNC_MAX_FILE_BYTES to raise it)")
