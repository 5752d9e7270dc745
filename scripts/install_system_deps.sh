#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, and only those that are missing:
#   postgresql        server binaries (initdb, pg_ctl); the store tests start a throwaway server
#   chromium          headless browser for the browser tests
#   fonts-liberation  fonts for the pages chromium renders
#   openjdk-17-jre-headless  a Java runtime for Spark (the Spark engine of batch scoring and
#                     its tests); any `java` on PATH already counts
# Idempotent: when everything is present it installs nothing and never runs apt-get.
# Without root (and without password-less sudo) it only says what is missing and exits 0: the
# tests that need these packages are then skipped, the rest of the suite still runs.
# It never starts the Debian PostgreSQL cluster service: the tests start their own server.
# CANDOR_SKIP_SYSTEM_DEPS=1 skips this script entirely.
set -euo pipefail

PACKAGES=(postgresql chromium fonts-liberation openjdk-17-jre-headless)

if [[ "${CANDOR_SKIP_SYSTEM_DEPS:-0}" == "1" ]]; then
    echo "install_system_deps: CANDOR_SKIP_SYSTEM_DEPS=1, not checking system packages"
    exit 0
fi

dpkg_installed() {
    command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

postgres_server_present() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [[ -x "$initdb" && -x "$(dirname "$initdb")/pg_ctl" ]] && return 0
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

present() {
    dpkg_installed "$1" && return 0
    case "$1" in
        postgresql) postgres_server_present ;;
        chromium) command -v chromium >/dev/null 2>&1 ;;
        openjdk-17-jre-headless) command -v java >/dev/null 2>&1 ;;
        *) return 1 ;;
    esac
}

missing=()
for package in "${PACKAGES[@]}"; do
    present "$package" || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_system_deps: all present (${PACKAGES[*]})"
    exit 0
fi

skip_message() {
    echo "install_system_deps: missing Debian packages: ${missing[*]}" >&2
    echo "install_system_deps: $1" >&2
    echo "install_system_deps: the tests that need them will be skipped." >&2
    echo "install_system_deps: to install them: sudo bash scripts/install_system_deps.sh" >&2
}

if ! command -v apt-get >/dev/null 2>&1; then
    skip_message "apt-get is not available here (not a Debian-like system); install them by hand."
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        skip_message "not root and no password-less sudo, so they cannot be installed now."
        exit 0
    fi
fi

# Keep package scripts from starting services (the postgresql package would start its main
# cluster): a policy-rc.d that denies every start, only if none is in place, removed on exit.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e "$POLICY" ]]; then
    "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
    trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

# slim Debian images drop /usr/share/man, where the JRE's postinst links java.1.gz
if [[ " ${missing[*]} " == *" openjdk-17-jre-headless "* ]]; then
    "${SUDO[@]}" mkdir -p /usr/share/man/man1
fi

echo "install_system_deps: installing ${missing[*]}"
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
"${APT[@]}" update
"${APT[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install_system_deps: installed ${missing[*]}"
