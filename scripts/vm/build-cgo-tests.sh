#!/bin/bash
# Builds package rseq's test binary with cgo, statically linked against
# glibc, for amd64 and arm64, so that the kernel-matrix harness (which has no
# userland in the guest) can run the cgo registration modes:
#
#   GORSEQ_EXPECT=libc                   glibc's own rseq area (glibc >= 2.35)
#   GLIBC_TUNABLES=glibc.pthread.rseq=0  the library's own area in C TLS
#     GORSEQ_EXPECT=library-cgo
#
# The binaries are <out>/rseq-cgo.<arch>.test (default out:
# <cache>/cgo, cache = ${XDG_CACHE_HOME:-$HOME/.cache}/rseq-vm), for
#
#   go run ./internal/vm -run 'name=<out>/rseq-cgo.{arch}.test ...'
#
# The C toolchains are installed with apt-get when missing (needs root):
# the host's gcc and libc6-dev for the host's architecture, and
# gcc-<triplet> with libc6-dev-<arch>-cross for the other one. Each binary
# is checked to be static and to define glibc's __rseq_offset/__rseq_size
# (a weak reference in internal/libc: a C library without them would link
# and silently lose the libc mode).
#
# Usage: scripts/vm/build-cgo-tests.sh [-cache DIR] [-out DIR] [-arch "amd64 arm64"]
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rseq-vm"
OUT=""
ARCHES="amd64 arm64"
while [ $# -gt 0 ]; do
	case "$1" in
	-cache) CACHE="$2"; shift 2 ;;
	-out) OUT="$2"; shift 2 ;;
	-arch) ARCHES="$2"; shift 2 ;;
	*) echo "usage: $0 [-cache DIR] [-out DIR] [-arch \"amd64 arm64\"]" >&2; exit 2 ;;
	esac
done
OUT="${OUT:-$CACHE/cgo}"
log() { echo "build-cgo-tests: $*" >&2; }

hostarch=$(go env GOHOSTARCH)

# toolchain ARCH: sets CC, the compiler for ARCH, and PKGS, the Debian
# packages that provide it and a static glibc (libc.a) for ARCH.
toolchain() {
	local triplet
	case "$1" in
	amd64) triplet=x86_64-linux-gnu ;;
	arm64) triplet=aarch64-linux-gnu ;;
	*) log "unsupported arch $1"; exit 2 ;;
	esac
	if [ "$1" = "$hostarch" ]; then
		CC=gcc
		PKGS="gcc libc6-dev"
		LIBC_A=/usr/lib/$triplet/libc.a
	else
		CC=$triplet-gcc
		PKGS="gcc-$triplet libc6-dev-$1-cross"
		LIBC_A=/usr/$triplet/lib/libc.a
	fi
}

# --- toolchains -----------------------------------------------------------
need=""
for a in $ARCHES; do
	toolchain "$a"
	command -v "$CC" >/dev/null 2>&1 || need="$need ${PKGS% *}"
	[ -f "$LIBC_A" ] || need="$need ${PKGS#* }"
done
command -v file >/dev/null 2>&1 || need="$need file"
command -v readelf >/dev/null 2>&1 || need="$need binutils"
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		log "need root to install:$need"
		exit 1
	fi
	log "installing$need"
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $need >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $need >&2; }
fi

# --- build and check --------------------------------------------------------
mkdir -p "$OUT"
for a in $ARCHES; do
	toolchain "$a"
	bin="$OUT/rseq-cgo.$a.test"
	log "$a: CC=$CC go test -c (cgo, static) -> $bin"
	# netgo, osusergo: Go's own resolver and user lookup, not glibc's NSS
	# (which a static binary cannot load; the linker warns about it).
	CGO_ENABLED=1 GOOS=linux GOARCH="$a" CC="$CC" \
		go test -c -trimpath -tags netgo,osusergo -o "$bin" \
		-ldflags '-linkmode external -extldflags -static' .

	# Static: no program interpreter, no shared libraries.
	if readelf -lW "$bin" | grep -q INTERP || readelf -dW "$bin" | grep -q NEEDED; then
		log "$a: $bin is not static:"
		readelf -lW "$bin" | grep -A1 INTERP >&2 || true
		readelf -dW "$bin" | grep NEEDED >&2 || true
		exit 1
	fi
	# glibc's rseq symbols resolved (a weak undefined one would read as 0).
	for s in __rseq_offset __rseq_size; do
		if ! readelf -sW "$bin" | awk -v s="$s" '$8 == s && $7 != "UND" { f = 1 } END { exit !f }'; then
			log "$a: $s is not defined in $bin: the C library has no rseq support (glibc < 2.35?)"
			exit 1
		fi
	done
	ver=$(strings -n 8 "$LIBC_A" 2>/dev/null | grep -m1 -o 'GNU C Library ([^)]*) [a-z ]*version [0-9.]*' || true)
	log "$a: ok: $(file -b "$bin")"
	log "$a: libc: ${ver:-$LIBC_A}"
done
