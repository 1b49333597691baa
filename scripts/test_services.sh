#!/usr/bin/env bash
# Installs the services the test suite needs beyond Python, and says what it did.
#
#   scripts/test_services.sh            (called by `make test` before pytest)
#
# PostgreSQL: tests/test_tools/test_search.py runs an Optuna study shared by two
# worker processes on a throwaway PostgreSQL cluster that the test fixture starts on
# 127.0.0.1 (initdb + pg_ctl in a temp dir). This script only makes sure Debian's
# server binaries are there: when they are missing and we are root with apt-get, it
# installs the `postgresql` package quietly (log in .cache/logs/apt-postgresql.log).
# It never fails the test run: when it cannot install, it prints why and the
# PostgreSQL test is skipped with that reason printed by pytest.
# PG_LIB_ROOT (default /usr/lib/postgresql) is where versioned server binaries are
# looked for when initdb/pg_ctl are not on PATH.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
log_dir="$here/.cache/logs"
mkdir -p "$log_dir"
say() { printf '[test-services] %s\n' "$*"; }

find_pg_bin() {  # prints the directory holding initdb and pg_ctl, or nothing
    local d
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    for d in $(ls -d "${PG_LIB_ROOT:-/usr/lib/postgresql}"/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return
        fi
    done
}

pg_bin=$(find_pg_bin)
if [ -n "$pg_bin" ]; then
    say "PostgreSQL server binaries found in $pg_bin"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is not installed and we are not root: cannot apt-get install it;" \
        "the PostgreSQL study test will be skipped"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL is not installed and apt-get is not available on this machine;" \
        "the PostgreSQL study test will be skipped"
    exit 0
fi
log="$log_dir/apt-postgresql.log"
say "installing Debian's postgresql package (log: $log)"
if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends postgresql; } >"$log" 2>&1; then
    say "apt-get install postgresql failed (last lines of $log below);" \
        "the PostgreSQL study test will be skipped"
    tail -n 5 "$log" | sed 's/^/[test-services]   /'
    exit 0
fi
pg_bin=$(find_pg_bin)
if [ -n "$pg_bin" ]; then
    say "PostgreSQL installed: server binaries in $pg_bin"
else
    say "postgresql installed but no initdb/pg_ctl found;" \
        "the PostgreSQL study test will be skipped"
fi
exit 0
