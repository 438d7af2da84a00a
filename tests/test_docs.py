"""The README and the docs site (issue #24): a README a newcomer can read, and no link to a file
that is not there. `make lint` builds the site with `mkdocs build --strict`, which checks the
site's own links and anchors; this holds the README's links too, and runs with the tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

# [text](target) and ![alt](target), with an optional "title"; not inside code
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)


def relative_links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text()))
    targets = [m[1] for m in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_readme_is_under_12_kb():
    assert README.stat().st_size < 12 * 1024, README.stat().st_size


def test_the_readme_says_on_its_first_screen_that_sessions_health_has_no_api():
    first_screen = "\n".join(README.read_text().splitlines()[:24])
    assert "Sessions Health has no API" in first_screen
    assert "runbook" in first_screen
    # ... and that a change is recorded at apply and carried out by people, tracked until then
    assert "`shsync runbook`" in first_screen and "`shsync done R-1`" in first_screen
    assert "never changes Sessions Health" in first_screen


def test_make_demo_ends_with_the_runbook_carried_out_and_nothing_left(tmp_path):
    """The demo as the README's `make demo` runs it, into a directory of its own."""
    import subprocess
    import sys

    venv = Path(sys.prefix)
    result = subprocess.run(
        ["make", "-s", "-o", f"{venv}/.package", "demo", f"VENV={venv}",
         f"DEMO_DIR={tmp_path / 'demo'}"], cwd=ROOT, capture_output=True, text=True,
        timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    out = result.stdout
    listed = out.index("18 step(s) to carry out in Sessions Health")
    done = out.index("as carried out in Sessions Health. Audit entry #5")
    empty = out.index("Nothing outstanding: every step recorded so far was carried out")
    assert listed < done < empty < out.index("The audit log is intact")
    assert "runbook step(s) carried out in Sessions Health: R-1, R-2" in out
    assert (tmp_path / "demo" / "runbook.html").read_text().startswith("<!DOCTYPE html>")


def test_there_are_docs_pages_and_the_readme_links_into_them():
    assert len(PAGES) > 10
    assert any(t.startswith("docs/") for t in relative_links(README))


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_an_existing_file(page):
    missing = []
    for target in relative_links(page):
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            missing.append(target)
    assert missing == [], f"{page.relative_to(ROOT)} links to files that do not exist"


def test_the_link_finder_finds_links_and_skips_code():
    sample = DOCS / "index.md"
    links = relative_links(sample)
    assert "getting-started.md" in links and "reference/cli.md" in links
    assert LINK.findall("see [a](b.md#c) and ![i](d.png)") == ["b.md#c", "d.png"]
    assert CODE_SPAN.sub("", "`[a](gone.md)` and [b](here.md)").count("gone") == 0


def test_the_command_reference_is_generated_from_the_click_group():
    page = (DOCS / "reference" / "cli.md").read_text()
    assert "::: mkdocs-click\n    :module: shsync.cli\n    :command: cli\n" in page
    assert "    :prog_name: shsync\n" in page


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}")
    return text[start:text.index("\n## ", start + 3)]


def _commands(section: str) -> list[str]:
    """The shell lines of a section's ```sh blocks, without their comments."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        found += [line.split("  #")[0].strip() for line in block.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return found


@pytest.mark.parametrize("title", ["Quick start: a new practice",
                                   "Quick start: adopting an existing practice"])
def test_the_readmes_quick_starts_run_as_written(tmp_path, title):
    """Each quick start, pasted into an empty git repository with the new practice's org file,
    exits 0 at every command, CI or not (shsync.toml names the store)."""
    import os
    import subprocess
    import sys

    (org,) = re.findall(r"```yaml\n(.*?)```", _section("Quick start: a new practice"), re.S)
    (tmp_path / ".git").mkdir()
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "org.yaml").write_text(org)
    # A person at their own machine, not a CI job (where a store the checkout does not hold is
    # refused: tests/cli/test_day_one.py).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHSYNC_") and k != "CI"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    commands = _commands(_section(title))
    assert commands[0] == "shsync init" and any(c.startswith("shsync plan") for c in commands)
    for command in commands:
        ran = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                             capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        assert ran.returncode == 0, (command, ran.stdout[-2000:], ran.stderr[-2000:])
    assert (tmp_path / ".shsync" / "practice.db").is_file()
    assert "/.shsync/" in (tmp_path / ".gitignore").read_text()
