"""The org files shsync itself writes (`onboard`, `export`) are in the subset the fast YAML path
reads (docs/org-format.md, "How YAML is read"): a large practice's files are read by yaml-rs,
with the same values as the loader's."""

from __future__ import annotations

from pathlib import Path

from shsync.format import fastload
from shsync.format.yamlload import load_by_events

ROWS = "email,first_name,last_name,roles,admin,npi,taxonomy,supervised_by\n" + "".join(
    f"m{i}@x.example,Zoë {i},O'Brien-{i},practitioner{';supervisor' if i == 0 else ''},"
    f"{'yes' if i == 0 else ''},{'1245319599' if i == 0 else '1204567899'},101YM0800X,"
    f"{'' if i == 0 else 'm0@x.example'}\n" for i in range(2))


def fast_and_same(path: Path) -> bool:
    text = path.read_text()
    fast = fastload.load(text, chunk=64)
    return fast is not None and fast == load_by_events(text, str(path)).data


def test_onboarded_and_exported_files_take_the_fast_path(run, tmp_path):
    (tmp_path / "roster.csv").write_text(ROWS)
    assert run("onboard", "roster.csv", "-o", "org").returncode == 0
    written = sorted((tmp_path / "org").rglob("*.yaml"))
    assert written and all(fast_and_same(p) for p in written)
    assert run("apply", "org", "--auto-approve", "--assume-accepted").returncode == 0
    assert run("export", "-o", "export.yaml").returncode == 0
    assert fast_and_same(tmp_path / "export.yaml")
