"""Writing what shsync produces (a saved plan, an export, onboarded files): whole or not at all.

A file is written to a temporary file in the same directory, flushed to disk, then renamed over
the target, so a reader never sees half of it and a failure (a full disk, a read-only or
missing directory, a path under a regular file, /proc) leaves the old file as it was. A
directory (`export --split-by`) is built beside the target and renamed into place: never a
mixture of old and new files. A target that is a device or a FIFO (`/dev/stdout`, `/dev/full`)
is written directly, without waiting. Every failure is `error[output-failed]: cannot write
PATH: REASON`; an existing target that may not be replaced is `output-exists`.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from shsync.errors import OutputExists, OutputFailed


def _reason(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT and not path.parent.exists():
        return f"the directory {path.parent} does not exist"
    return (exc.strerror or str(exc)).lower()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode() -> int:
    return 0o666 & ~_umask()


def _existing(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ENOTDIR: a path under a regular file
        raise OutputFailed(path, _reason(path, exc)) from None


def write_text(path: Path, text: str, *, overwrite: bool = True, parents: bool = False) -> None:
    """Write `text` to `path` atomically. `overwrite=False` refuses an existing regular file
    (`output-exists`); `parents=True` creates missing directories first."""
    data = text.encode("utf-8")
    if parents:
        make_directory(path.parent)
    # A link to a regular file stays a link: its target is what gets replaced.
    real = Path(os.path.realpath(path)) if os.path.islink(path) and path.is_file() else path
    try:
        _write_file(real, data, overwrite)
    except OutputFailed as exc:
        if real != path:  # name the output as the user did, not the link's target
            raise OutputFailed(path, exc.reason) from None
        raise


def _write_file(path: Path, data: bytes, overwrite: bool) -> None:
    info = _existing(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputFailed(path, "it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_device(path, data)
        return
    if info is not None and not overwrite:
        raise OutputExists(f"{path} exists; pass --force to replace it")
    mode = stat.S_IMODE(info.st_mode) if info is not None else _mode()
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFailed(path, _reason(path, exc)) from None
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        _place(Path(temp), path, overwrite)
    except OSError as exc:
        _remove(Path(temp))
        if isinstance(exc, FileExistsError):
            raise OutputExists(f"{path} exists; pass --force to replace it") from None
        raise OutputFailed(path, _reason(path, exc)) from None


def _place(temp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # fails if the target appeared meanwhile: nothing is overwritten
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_device(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise OutputFailed(path, _reason(path, exc)) from None
    try:
        os.set_blocking(fd, True)
        _write_all(fd, data)
    except OSError as exc:
        raise OutputFailed(path, _reason(path, exc)) from None
    finally:
        os.close(fd)


def make_directory(path: Path) -> None:
    """`mkdir -p`, failing as `output-failed`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFailed(path, _reason(path, exc)) from None
    if not path.is_dir():
        raise OutputFailed(path, "not a directory")


def _only_yaml(directory: Path) -> str | None:
    """The first entry that is not a YAML file or a directory of them, if any."""
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in sorted(dirnames + filenames):
            entry = Path(dirpath, name)
            if entry.is_symlink() or name.startswith("."):
                return str(entry)
            if name in filenames and not (entry.is_file()
                                          and name.lower().endswith((".yaml", ".yml"))):
                return str(entry)
    return None


def write_tree(directory: Path, files: Mapping[str, str], *, replace: bool = False) -> None:
    """Write a complete directory of `files` (relative path -> text): built beside the target,
    then renamed into place. An existing non-empty directory is replaced whole only with
    `replace=True`, and only when it holds nothing but YAML files (never a repository root)."""
    info = _existing(directory)
    occupied = info is not None and (not stat.S_ISDIR(info.st_mode) or any(directory.iterdir()))
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise OutputFailed(directory, "it exists and is not a directory")
    if occupied and not replace:
        raise OutputExists(f"{directory} exists and is not empty; pass --force to replace it "
                           "whole")
    if occupied and (stranger := _only_yaml(directory)):
        raise OutputExists(f"{directory} holds {stranger}, which is not an org file; refusing to "
                           "replace the directory")
    try:
        temp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.",
                                     suffix=".tmp"))
    except OSError as exc:
        raise OutputFailed(directory, _reason(directory, exc)) from None
    try:
        for relative, text in files.items():
            target = temp / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            try:
                _write_all(fd, text.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        os.chmod(temp, 0o777 & ~_umask())
        _swap(temp, directory, occupied)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise OutputFailed(directory, _reason(directory, exc)) from None


def _swap(temp: Path, directory: Path, occupied: bool) -> None:
    if not occupied:
        os.replace(temp, directory)  # onto nothing, or onto an empty directory
        return
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.",
                                suffix=".old"))
    os.replace(directory, old)
    try:
        os.replace(temp, directory)
    except OSError:
        os.replace(old, directory)
        raise
    shutil.rmtree(old, ignore_errors=True)
