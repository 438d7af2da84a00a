"""`shsync --help` without click: the installed program prints the stored page exactly where click
would print that page, and leaves every other case to click."""

from __future__ import annotations

import fcntl
import gettext
import os
import py_compile
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from shsync import quickhelp
from shsync.cli import helppages

PROGRAM = Path(sys.executable).with_name("shsync")  # the console script `pip install` made
PAGES = [["--help"], ["-h"], ["plan", "-h"], ["token", "create", "--help"]]


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "_SHSYNC_COMPLETE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG",
                        "PYTHONOPTIMIZE")}
    return {**env, "PYTHONPROFILEIMPORTTIME": "1", **values}


def clicked(stderr: str) -> bool:
    """Whether the process imported click (PYTHONPROFILEIMPORTTIME's report on stderr)."""
    return re.search(r"\|\s+click$", stderr, re.M) is not None


def reported(stderr: str) -> str:
    """stderr without PYTHONPROFILEIMPORTTIME's report."""
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("import time:"))


@pytest.mark.parametrize("columns", [None, 80, 100, 173, 64])
@pytest.mark.parametrize("args", PAGES, ids=" ".join)
def test_the_program_prints_what_click_prints(args, columns):
    # A pipe: 80 columns to click unless COLUMNS says otherwise; 64 is not stored: click's own.
    env = environment() if columns is None else environment(COLUMNS=str(columns))
    result = subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=60,
                            env=env)
    assert (result.returncode, reported(result.stderr)) == (0, "")
    assert result.stdout == helppages.render(tuple(args[:-1]), columns or 80, args[-1])
    assert clicked(result.stderr) == (columns == 64)


@pytest.mark.parametrize("how", [{"PYTHONOPTIMIZE": "2"}, {"PYTHONOPTIMIZE": "1"}])
def test_without_docstrings_click_prints_the_help(how):
    # -OO drops the docstrings click prints as descriptions: the stored pages would show them.
    result = subprocess.run([str(PROGRAM), "plan", "--help"], capture_output=True, text=True,
                            timeout=60, env=environment(COLUMNS="80", **how))
    expected = subprocess.run(
        [sys.executable, "-c", "from shsync.cli import helppages; "
         "print(helppages.render(('plan',), 80), end='')"],
        capture_output=True, text=True, timeout=60, env=environment(**how)).stdout
    assert result.returncode == 0 and result.stdout == expected
    optimized = how["PYTHONOPTIMIZE"] == "2"
    assert ("Show what applying" in result.stdout) != optimized
    assert clicked(result.stderr) == optimized


@pytest.mark.parametrize("columns", [80, 100, 66])
def test_a_terminal_is_wrapped_to_its_own_width(columns):
    # A real terminal, whose width only the kernel knows (COLUMNS unset): stored at 80 and 100
    # columns, 66 goes to click; the three must all read as click renders them.
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        process = subprocess.Popen([str(PROGRAM), "plan", "--help"], stdout=secondary,
                                   stderr=subprocess.PIPE, env=environment(), text=True)
        os.close(secondary)
        printed = b""
        while chunk := _read(main):
            printed += chunk
        stderr = process.stderr.read()
        assert process.wait(timeout=60) == 0, stderr
        process.stderr.close()
    finally:
        os.close(main)
    assert printed.decode().replace("\r\n", "\n") == helppages.render(("plan",), columns)
    assert clicked(stderr) == (columns == 66)


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
def test_help_width_is_clicks(monkeypatch, columns, width):
    import click

    monkeypatch.setenv("COLUMNS", str(columns))
    assert quickhelp.help_width(quickhelp.terminal_columns()) == width
    assert click.HelpFormatter(max_width=quickhelp.MAX_CONTENT_WIDTH).width == width


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
    release, pages = quickhelp.read(quickhelp.PAGES_FILE)
    assert release == version("click")
    other = tmp_path / "helppages.txt"
    other.write_text(quickhelp.encode("0.0.1", pages), encoding="ascii")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(quickhelp, "PAGES_FILE", str(other))
    assert quickhelp.page(["--help"]) is None
    other.write_text(quickhelp.encode(release, pages), encoding="ascii")
    assert quickhelp.page(["--help"]) == pages[(78,)]


@pytest.mark.parametrize("shadow", ["click.py", "click.pyc", "zip", "click/"])
def test_another_click_first_on_the_path_is_not_taken_for_the_release(tmp_path, shadow):
    # What `import click` would load first: a module, a compiled file, a zip, a package of its
    # own; each in a folder without click's metadata (PYTHONPATH comes before site-packages).
    folder = tmp_path / "shadow"
    folder.mkdir()
    if shadow == "click/":
        (folder / "click").mkdir()
        (folder / "click" / "__init__.py").write_text("raise SystemExit('fake click')\n")
    elif shadow == "zip":
        with zipfile.ZipFile(folder / "fake.zip", "w") as archive:
            archive.writestr("click.py", "raise SystemExit('fake click')\n")
        folder = folder / "fake.zip"
    else:
        (folder / "click.py").write_text("raise SystemExit('fake click')\n")
        if shadow == "click.pyc":
            py_compile.compile(str(folder / "click.py"), cfile=str(folder / "click.pyc"))
            (folder / "click.py").unlink()
    result = subprocess.run([str(PROGRAM), "--help"], capture_output=True, text=True, timeout=60,
                            env=environment(COLUMNS="80", PYTHONPATH=str(folder)))
    assert (result.returncode, result.stdout) == (1, "")  # click's import ran, and failed
    assert reported(result.stderr) == "fake click\n"


def write_catalogue(localedir: Path, language: str) -> None:
    """A gettext catalogue for the default domain (`messages`) with one of click's words."""
    folder = localedir / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    pairs = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", "Usage:": "Aufruf:"}.items())
    ids = b"".join(k.encode() + b"\0" for k, _ in pairs)
    strs = b"".join(v.encode() + b"\0" for _, v in pairs)
    start = 28 + 16 * len(pairs)
    keys, values, at = [], [], 0
    for k, _ in pairs:
        keys.append(struct.pack("ii", len(k.encode()), start + at))
        at += len(k.encode()) + 1
    at = 0
    for _, v in pairs:
        values.append(struct.pack("ii", len(v.encode()), start + len(ids) + at))
        at += len(v.encode()) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(pairs), 28, 28 + 8 * len(pairs), 0, 0)
    (folder / "messages.mo").write_bytes(header + b"".join(keys + values) + ids + strs)


LANGUAGES = [None, "C", "C.UTF-8", "POSIX", "en_US.UTF-8", "en", "de", "de_DE.UTF-8",
             "de_DE@euro", "fr:de", "fr", "german", "pt_BR", "", "C:de", "iw"]


@pytest.mark.parametrize("variable", ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"])
@pytest.mark.parametrize("value", LANGUAGES)
def test_wherever_gettext_would_translate_click_the_page_is_left_to_click(
        monkeypatch, tmp_path, variable, value):
    localedir = tmp_path / "share" / "locale"
    for language in ("de", "pt_BR", "he"):  # `iw` is an old name of Hebrew (locale's aliases)
        write_catalogue(localedir, language)
    (localedir / "fr" / "LC_MESSAGES").mkdir(parents=True)  # a language without `messages`
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    if value is not None:
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path))
    found = gettext.find("messages", str(localedir))
    assert quickhelp.translated() == (found is not None)
    if found is not None:
        assert gettext.translation("messages", str(localedir)).gettext("Usage:") == "Aufruf:"
    assert quickhelp.translated() == (value in ("de", "de_DE.UTF-8", "de_DE@euro", "fr:de",
                                                "german", "pt_BR", "iw"))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "nowhere"))
    assert not quickhelp.translated()


def test_a_translated_click_prints_its_own_help(tmp_path):
    # Python's own share/locale cannot be written here: a copy of the interpreter's prefix is
    # not needed, only gettext's lookup made to see a catalogue, as sitecustomize would.
    write_catalogue(tmp_path / "share" / "locale", "de")
    (tmp_path / "sitecustomize.py").write_text(f"import sys; sys.base_prefix = {str(tmp_path)!r}\n")
    env = environment(COLUMNS="80", LANGUAGE="de", PYTHONPATH=str(tmp_path))
    result = subprocess.run([str(PROGRAM), "--help"], capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.stdout.startswith("Aufruf: shsync [OPTIONS] COMMAND [ARGS]...\n")
    assert clicked(result.stderr)
    english = subprocess.run([str(PROGRAM), "--help"], capture_output=True, text=True,
                             timeout=60, env={**env, "LANGUAGE": "fr"})
    assert english.stdout == helppages.render((), 80) and not clicked(english.stderr)


@pytest.mark.parametrize("damage", ["missing", "empty", "cut short", "one byte changed",
                                    "merge conflict", "not ascii", "old format", "a directory"])
def test_a_missing_or_damaged_pages_file_is_left_to_click(monkeypatch, tmp_path, damage):
    path = tmp_path / "helppages.txt"
    whole = Path(quickhelp.PAGES_FILE).read_bytes()
    content = {"missing": None, "empty": b"", "cut short": whole[:3000],
               "one byte changed": whole.replace(b"Usage: shsync plan", b"Usage: shsync plam", 1),
               "merge conflict": whole.replace(b"\x1e98\n", b"\x1e<<<<<<< HEAD\n98\n", 1),
               "not ascii": whole.replace(b"Usage:", "\u00dcsage:".encode(), 1),
               "old format": b"click 8.5.1\n\x1e78\nUsage: x\n", "a directory": None}[damage]
    if damage == "a directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert content != whole
    assert quickhelp.read(str(path)) is None
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(quickhelp, "PAGES_FILE", str(path))
    assert quickhelp.page(["plan", "--help"]) is None


def test_encode_and_read_are_inverses(tmp_path):
    pages = {(78,): "Usage: a\n\n  b\n", (98, "token", "create"): "x\n"}
    path = tmp_path / "pages.txt"
    path.write_text(quickhelp.encode("8.5.1", pages), encoding="ascii")
    assert quickhelp.read(str(path)) == ("8.5.1", pages)
