#!/usr/bin/env bash
# GitHub Action step 3: plan against the live practice (SHSYNC_BACKEND) and put the plan, as
# Markdown, in the job summary (what reviewers read on the pull request). `--detailed-exitcode`
# semantics: 0 = nothing to do, 2 = changes pending (not a failure), 1 = error (fails the step).
# Outputs: changes=true|false, plan-file=PATH (the saved plan that the apply step applies).
# Inputs: SHSYNC_ORG, SHSYNC_BACKEND (required), SHSYNC_TOKEN, SHSYNC_PRACTICE, SHSYNC_ACTOR.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
org="${SHSYNC_ORG:?set SHSYNC_ORG to the org file or directory}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
outputs="${GITHUB_OUTPUT:-/dev/null}"
plan_file="${SHSYNC_PLAN_FILE:-${RUNNER_TEMP:-.}/shsync-plan.json}"

status=0
markdown="$(shsync plan "$org" --format markdown --detailed-exitcode --out "$plan_file")" \
  || status=$?
printf '%s\n' "$markdown"
printf '%s\n\n' "$markdown" >>"$summary"
case "$status" in
  0) changes=false ;;
  2) changes=true ;;
  *) echo "::error title=shsync plan::the plan failed (exit $status); see the log"
     exit 1 ;;
esac
echo "changes=$changes" >>"$outputs"
echo "plan-file=$plan_file" >>"$outputs"
