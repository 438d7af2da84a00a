"""`shsync --help` without click: the installed program prints the stored page exactly where click
would print that page, and leaves every other case to click."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from importlib.metadata import version
from pathlib import Path

import pytest

from shsync import quickhelp
from shsync.cli import helppages

PROGRAM = Path(sys.executable).with_name("shsync")  # the console script `pip install` made
PAGES = [["--help"], ["-h"], ["plan", "-h"], ["token", "create", "--help"]]


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "_SHSYNC_COMPLETE")}
    return {**env, **values}


@pytest.mark.parametrize("columns", [None, 80, 100, 173, 64])
@pytest.mark.parametrize("args", PAGES, ids=" ".join)
def test_the_program_prints_what_click_prints(args, columns):
    # A pipe: 80 columns to click unless COLUMNS says otherwise; 64 is not stored (click's own).
    env = environment() if columns is None else environment(COLUMNS=str(columns))
    result = subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=60,
                            env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == helppages.render(tuple(args[:-1]), columns or 80, args[-1])


@pytest.mark.parametrize("columns", [80, 100, 66])
def test_a_terminal_is_wrapped_to_its_own_width(columns):
    # A real terminal, whose width only the kernel knows (COLUMNS unset): stored at 80 and 100
    # columns, 66 goes to click; the three must all read as click renders them.
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        process = subprocess.Popen([str(PROGRAM), "plan", "--help"], stdout=secondary,
                                   stderr=subprocess.PIPE, env=environment())
        os.close(secondary)
        printed = b""
        while chunk := _read(main):
            printed += chunk
        assert process.wait(timeout=60) == 0, process.stderr.read()
        process.stderr.close()
    finally:
        os.close(main)
    assert printed.decode().replace("\r\n", "\n") == helppages.render(("plan",), columns)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the program has closed the terminal
        return b""


@pytest.mark.parametrize("columns", [None, "80", "100", "0", "-3", "wide", "", " 90"])
@pytest.mark.parametrize("lines", [None, "24", "0"])
def test_terminal_columns_is_shutils_answer(monkeypatch, columns, lines):
    for name, value in (("COLUMNS", columns), ("LINES", lines)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert quickhelp.terminal_columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns, width", [(20, 50), (52, 50), (80, 78), (100, 98), (400, 98)])
def test_help_width_is_clicks(columns, width):
    import click

    assert quickhelp.help_width(columns) == width
    assert click.HelpFormatter(max_width=100, width=None).width == quickhelp.help_width(
        shutil.get_terminal_size().columns)


@pytest.mark.parametrize("args", [
    [], ["plan"], ["--version"], ["", "--help"], ["plan", "", "--help"], ["--help", "plan"],
    ["plan", "x.yaml", "--help"], ["--no-color", "--help"], ["nosuch", "--help"],
    ["plan", "--HELP"], ["plan token", "--help"], ["78", "--help"]])
def test_other_command_lines_are_left_to_click(monkeypatch, args):
    monkeypatch.setenv("COLUMNS", "80")
    assert quickhelp.page(args) is None
    assert quickhelp.page(["plan", "--help"]) is not None  # the same conditions otherwise


def test_widths_not_stored_and_shell_completion_are_left_to_click(monkeypatch):
    monkeypatch.setenv("COLUMNS", "79")
    assert quickhelp.page(["--help"]) is None
    monkeypatch.setenv("COLUMNS", "140")
    assert quickhelp.page(["--help"]) == helppages.render((), 140)
    monkeypatch.setenv("_SHSYNC_COMPLETE", "bash_complete")
    assert quickhelp.page(["--help"]) is None
    result = subprocess.run([str(PROGRAM), "--help"], capture_output=True, text=True, timeout=60,
                            env=environment(_SHSYNC_COMPLETE="bash_complete",
                                            COMP_WORDS="shsync pla", COMP_CWORD="1"))
    assert (result.returncode, result.stdout) == (0, "plain,plan\nplain,plans\n")


def test_pages_rendered_by_another_click_are_not_used(monkeypatch, tmp_path):
    assert quickhelp.click_installed(version("click"))
    assert not quickhelp.click_installed("0.0.1")
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "click.py").write_text("")  # what `import click` would load first
    monkeypatch.setattr(sys, "path", [str(shadow), *sys.path])
    assert not quickhelp.click_installed(version("click"))
    monkeypatch.setattr(sys, "path", sys.path[1:])
    release, pages = quickhelp.read(quickhelp.PAGES_FILE)
    assert release == version("click")
    other = tmp_path / "helppages.txt"
    other.write_text(quickhelp.encode("0.0.1", pages), encoding="ascii")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(quickhelp, "PAGES_FILE", str(other))
    assert quickhelp.page(["--help"]) is None
    other.write_text(quickhelp.encode(release, pages), encoding="ascii")
    assert quickhelp.page(["--help"]) == pages[(78,)]


@pytest.mark.parametrize("content", [None, b"", b"click 8\n\x1e78\n\xe2\x80\x94\n",
                                     b"clack 8\n", b"click 8\n\x1ewide plan\nUsage\n"])
def test_a_missing_or_damaged_pages_file_is_left_to_click(tmp_path, content):
    path = tmp_path / "helppages.txt"
    if content is not None:
        path.write_bytes(content)
    assert quickhelp.read(str(path)) is None


def test_encode_and_read_are_inverses(tmp_path):
    pages = {(78,): "Usage: a\n\n  b\n", (98, "token", "create"): "x\n"}
    path = tmp_path / "pages.txt"
    path.write_text(quickhelp.encode("8.5.1", pages), encoding="ascii")
    assert quickhelp.read(str(path)) == ("8.5.1", pages)
