#!/usr/bin/env bash
# Runs every test (swift test, arguments passed on) with TMPDIR set to a
# private directory that is removed afterwards: the tests' own files and
# the empty TemporaryDirectory.* folders SwiftPM leaves behind on every
# build all go there, so a run leaves nothing in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-test-run.XXXXXX")
cleanup() {
    # A test that failed half-way may leave its tmpfs mounted or a directory immutable.
    { grep -o " $tmp[^ ]*" /proc/mounts 2>/dev/null || true; } | while read -r m; do umount "$m" 2>/dev/null || true; done
    if [ "$(id -u)" = 0 ] && command -v chattr >/dev/null; then chattr -R -i "$tmp" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
TMPDIR="$tmp" swift test "$@"
