# Sourced (not run) by the steps that read or write the store: plan.sh and apply.sh.
# An empty backend fails the step: a missing secret (or a pull request from a fork, which gets
# no secrets) must never plan or apply against a new, empty local store in the runner. Empty
# optional inputs are unset, so shsync sees them as not given (its defaults, or shsync.toml).
# Nothing here prints a value: SHSYNC_BACKEND may carry a password, SHSYNC_TOKEN is a secret.
backend="${SHSYNC_BACKEND:-}"
if [ -z "${backend//[[:space:]]/}" ]; then
  message="the backend input is empty: pass the store's URL from a secret"
  message+=" (backend: \${{ secrets.SHSYNC_BACKEND }}) and check that the secret is set for"
  message+=" this repository or environment; a pull request from a fork gets no secrets"
  echo "::error title=shsync no-backend::$message"
  echo "**shsync: no backend.** $message" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
  exit 1
fi
for name in SHSYNC_ACTOR SHSYNC_TOKEN SHSYNC_PRACTICE; do
  [ -n "${!name:-}" ] || unset "$name"
done
unset backend
