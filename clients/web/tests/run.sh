#!/usr/bin/env bash
# The browser tests (the field app, the analyst dashboard, the admin page): headless Debian Chromium driven by
# playwright-core against the real survey-server binary. Installs what it needs on a fresh
# machine (Chromium and sqlite3 from Debian, playwright-core from npm; never a browser download).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -q && apt-get install -y -q "${need_apt[@]}"
fi

./scripts/build-wasm
# The server binary of the test suite (`survey-tests`' copy of the server's main), built with
# the same features as `cargo nextest run --workspace`: after that step this builds nothing,
# where `cargo build -p survey-server` resolved other features and rebuilt the dependencies.
cargo test --workspace --no-run -q
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$here"
SURVEY_SERVER_BIN="$target_dir/debug/survey-server-e2e" node --test --test-concurrency=1 field_app.test.mjs form_pages.test.mjs enrollment.test.mjs analyst_dashboard.test.mjs admin.test.mjs phone_safety.test.mjs xlsform_walk.test.mjs
