#!/bin/sh
# Installs what the kernel-matrix harness (go run ./internal/vm) needs on a
# Debian host: qemu for x86-64 and arm64 guests, and the archive keyring
# its private apt configuration verifies Debian's sid and bookworm with.
# Idempotent: does nothing when everything is present. Needs root.
set -eu

need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v qemu-system-aarch64 >/dev/null 2>&1 || need="$need qemu-system-arm"
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need="$need debian-archive-keyring"
command -v dpkg-deb >/dev/null 2>&1 || need="$need dpkg"

if [ -z "$need" ]; then
	echo "install-deps: all present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install:$need" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need
