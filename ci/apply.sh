#!/usr/bin/env bash
# GitHub Action step 4: apply the saved plan, only when SHSYNC_APPLY=true, on a push (or a
# manual or scheduled run) of the default branch, and only when the plan has changes. A pull
# request never applies. When nothing is applied and SHSYNC_FAIL_ON_CHANGES=true, pending
# changes fail the job with exit 2 (drift detection, like `plan --detailed-exitcode`).
set -euo pipefail
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
plan_file="${SHSYNC_PLAN_FILE:?set SHSYNC_PLAN_FILE to the plan-file output of the plan step}"
changes="${SHSYNC_CHANGES:?set SHSYNC_CHANGES to the changes output of the plan step}"
[ -n "${SHSYNC_ACTOR:-}" ] || unset SHSYNC_ACTOR

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
exit "$status"
