"""The access review page in a real headless Chromium: it renders (a screenshot that is not
blank), it logs nothing to the console (no error, no blocked request), and the access table in
the browser's DOM lists the expected rows.

Skipped, with the reason shown, when Chromium is not installed; but where CI=true or
SHSYNC_REQUIRE_CHROMIUM=1 (as `.ci/run` sets) a missing Chromium fails instead.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests import browser

from shsync.render import report
from shsync.jobs.review import review
from tests.render.html_tables import tables
from tests.render.test_graph import small
from tests.render.test_report import ENTRIES, review_backend

WIDTH, HEIGHT = 800, 1000


def chromium() -> str:
    return browser.chromium("the browser test of the access review")


def browse(page: Path, tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    """Run headless Chromium on `page`: (stdout, the console messages it logged)."""
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{HEIGHT}",
         *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG: (width, height, rows of pixels)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, header = 8, b"", b""
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        data += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(data), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) *
                                                           (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(b"".join(bytes(line[j:j + 3]) for j in range(0, stride, bpp)))
        prev = line
    return width, height, rows


@pytest.fixture
def report_page(tmp_path: Path) -> Path:
    data = review(review_backend(small(), ENTRIES), since="2026-09-01T00:00:00Z",
                  now="2026-11-26T12:00:00Z")
    page = tmp_path / "report.html"
    page.write_text(report.render(data), "utf-8")
    return page


def test_the_report_renders_in_chromium(report_page: Path, tmp_path: Path):
    shot = tmp_path / "report.png"
    _, console = browse(report_page, tmp_path, f"--screenshot={shot}")
    assert console == []
    width, height, rows = pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    background = rows[0][:3]
    inked = sum(row[i:i + 3] != background for row in rows for i in range(0, len(row), 3))
    colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 21)}
    assert inked > width * height // 50, "the page looks blank"  # text, tables, the chart
    assert len(colours) > 20  # text, borders, the coloured role tags


def test_the_access_table_in_the_browsers_dom(report_page: Path, tmp_path: Path):
    dom, console = browse(report_page, tmp_path, "--dump-dom")
    assert console == []
    rows = tables(dom)["access-table"]
    assert rows == tables(report_page.read_text())["access-table"]
    assert [r[0] for r in rows[1:]] == ["dana@x.example"] * 3 + [
        "rosa@x.example", "sam@x.example", "vic@x.example"]
    assert ["vic@x.example", "record, notes, diagnoses, treatment plans, billing",
            "1 client: C-1", "granted"] in rows


def test_the_console_check_sees_an_error(tmp_path: Path):
    """The check above can fail: a page that logs an error, and one whose CSP blocks a request."""
    noisy = tmp_path / "noisy.html"
    noisy.write_text('<!DOCTYPE html><p>x</p><script>console.error("boom")</script>')
    _, console = browse(noisy, tmp_path, "--dump-dom")
    assert any('"boom"' in line for line in console)
    blocked = tmp_path / "blocked.html"
    blocked.write_text(f'<!DOCTYPE html><meta http-equiv="Content-Security-Policy" '
                       f'content="{report.CSP}"><img src="https://example.invalid/x.png">')
    _, console = browse(blocked, tmp_path, "--dump-dom")
    assert any("Content Security Policy" in line for line in console)
