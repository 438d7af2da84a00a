#!/usr/bin/env bash
# GitHub Action step 2: validate the org files. Problems become annotations on the lines of
# the pull request (`--format github` workflow commands) and, as text, the job summary; exit 1
# when the org is invalid (or, with SHSYNC_STRICT=true, has warnings).
set -euo pipefail
org="${SHSYNC_ORG:?set SHSYNC_ORG to the org file or directory}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
args=(validate "$org")
[ "${SHSYNC_STRICT:-false}" = "true" ] && args+=(--strict)

status=0
shsync "${args[@]}" --format github || status=$?
if [ "$status" -ne 0 ]; then
  output="$(shsync "${args[@]}" 2>&1)" || true
  {
    echo "### shsync validate: \`$org\` is not valid"
    echo
    echo '```text'
    printf '%s\n' "$output"
    echo '```'
  } >>"$summary"
fi
exit "$status"
