#!/usr/bin/env bash
# GitHub Action step 3: plan against the live practice (SHSYNC_BACKEND) and put the plan, as
# Markdown, and the runbook it would leave, in the job summary (what reviewers read on the pull
# request). `--detailed-exitcode`
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
if [ "$changes" = true ]; then
  # What people would then do in Sessions Health, read from the saved plan (no second plan).
  # As escaped HTML in <pre>: a name from the org file cannot close a fence or add markup.
  runbook="$(shsync show "$plan_file" --format runbook \
    | python -c 'import html, sys; sys.stdout.write(html.escape(sys.stdin.read()))')"
  printf '<details><summary>Runbook: what people would then do in Sessions Health</summary>\n<pre>\n%s\n</pre>\n</details>\n\n' \
    "$runbook" >>"$summary"
fi
echo "changes=$changes" >>"$outputs"
echo "plan-file=$plan_file" >>"$outputs"
