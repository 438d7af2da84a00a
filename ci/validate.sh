#!/usr/bin/env bash
# GitHub Action step 2: validate the org files. Errors go to the log and to the job summary;
# exit 1 when the org is invalid (or, with SHSYNC_STRICT=true, has warnings).
set -euo pipefail
org="${SHSYNC_ORG:?set SHSYNC_ORG to the org file or directory}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
args=(validate "$org")
[ "${SHSYNC_STRICT:-false}" = "true" ] && args+=(--strict)

status=0
output="$(shsync "${args[@]}" 2>&1)" || status=$?
printf '%s\n' "$output"
if [ "$status" -ne 0 ]; then
  {
    echo "### shsync validate: \`$org\` is not valid"
    echo
    echo '```text'
    printf '%s\n' "$output"
    echo '```'
  } >>"$summary"
fi
exit "$status"
