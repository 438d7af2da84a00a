#!/usr/bin/env bash
# Regenerate docs/report.png: the access review of the demo practice, as headless Chromium shows
# it. Run from the repository root after `make .venv/.installed`: bash docs/screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SHSYNC_BACKEND="sqlite:///$work/practice.db" SHSYNC_NOW=2026-11-26T12:00:00Z
shsync=.venv/bin/shsync
"$shsync" seed examples/practice-snapshot.yaml >/dev/null
"$shsync" apply examples/org.yaml --auto-approve >/dev/null
"$shsync" accepted victor.okafor@riverbend.example >/dev/null
"$shsync" apply examples/org.yaml --auto-approve >/dev/null
"$shsync" report -o "$work/report.html" --since 2026-09-01
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/profile" --window-size=1100,1500 \
  --screenshot="$PWD/docs/report.png" "file://$work/report.html" 2>/dev/null
echo "Wrote docs/report.png"
