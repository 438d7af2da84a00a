#!/usr/bin/env bash
# GitHub Action step 1: install shsync from the action's own checkout (the ref in `uses:`),
# or from SHSYNC_PACKAGE (a pip requirement, e.g. a wheel or a git URL) when set.
set -euo pipefail
package="${SHSYNC_PACKAGE:-${GITHUB_ACTION_PATH:?run inside the action, or set SHSYNC_PACKAGE}}"
python -m pip install --quiet --disable-pip-version-check "$package"
shsync --version
