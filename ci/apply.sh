#!/usr/bin/env bash
# GitHub Action step 4: apply the saved plan, only when SHSYNC_APPLY=true, on a push (or a
# manual or scheduled run) of the default branch, and only when the plan has changes. A pull
# request never applies. When nothing is applied and SHSYNC_FAIL_ON_CHANGES=true, pending
# changes fail the job with exit 2 (drift detection, like `plan --detailed-exitcode`). After an
# apply, the runbook of what people must still do in Sessions Health goes into the job summary
# and into files the action uploads as the `shsync-runbook` artifact.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
plan_file="${SHSYNC_PLAN_FILE:?set SHSYNC_PLAN_FILE to the plan-file output of the plan step}"
changes="${SHSYNC_CHANGES:?set SHSYNC_CHANGES to the changes output of the plan step}"

skip() {
  echo "shsync: not applied: $1"
  echo "**shsync: not applied**: $1" >>"$summary"
  if [ "$changes" = "true" ] && [ "${SHSYNC_FAIL_ON_CHANGES:-false}" = "true" ]; then
    echo "::error title=shsync drift::the live practice differs from the org files"
    exit 2
  fi
  exit 0
}

event="${GITHUB_EVENT_NAME:-}"
branch="${SHSYNC_DEFAULT_BRANCH:-}"
[ "${SHSYNC_APPLY:-false}" = "true" ] || skip "apply is off (input apply: false)"
case "$event" in
  push|workflow_dispatch|schedule) ;;
  *) skip "a ${event:-unknown} event never applies" ;;
esac
[ -n "$branch" ] && [ "${GITHUB_REF:-}" = "refs/heads/$branch" ] \
  || skip "${GITHUB_REF:-no ref} is not the default branch (${branch:-unknown})"
if [ "$changes" != "true" ]; then
  echo "shsync: nothing to apply"
  echo "**shsync: nothing to apply.**" >>"$summary"
  exit 0
fi

status=0
output="$(shsync apply "$plan_file" 2>&1)" || status=$?
printf '%s\n' "$output"
{
  [ "$status" -eq 0 ] && echo "### shsync apply: applied" || echo "### shsync apply: failed"
  echo
  echo '```text'
  printf '%s\n' "$output"
  echo '```'
} >>"$summary"
[ "$status" -eq 0 ] || exit "$status"

# The apply recorded the change in shsync's store only: what people must now do in Sessions
# Health goes into the job summary, and into files for the workflow's artifact step
# (outputs runbook-file and runbook-json).
runbook_md="${RUNNER_TEMP:-.}/shsync-runbook.md"
runbook_json="${RUNNER_TEMP:-.}/shsync-runbook.json"
shsync runbook --format markdown -o "$runbook_md" || status=$?
shsync runbook --format json -o "$runbook_json" || status=$?
if [ "$status" -ne 0 ]; then
  echo "::error title=shsync runbook::the change was applied, but its runbook could not be written"
  echo "**shsync: the change was applied, but its runbook could not be written.**" >>"$summary"
  exit "$status"
fi
{
  echo
  cat "$runbook_md"
} >>"$summary"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "runbook-file=$runbook_md" >>"$GITHUB_OUTPUT"
  echo "runbook-json=$runbook_json" >>"$GITHUB_OUTPUT"
fi
exit 0
