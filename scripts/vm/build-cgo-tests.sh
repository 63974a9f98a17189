#!/bin/bash
# Builds package rseq's test binary with a C library linked (-tags rseqcgo:
# runtime/cgo and internal/cgotest, whose C threads call into Go), for the
# kernel-matrix harness to run in its guests. Package rseq itself uses no
# cgo; these are the link modes of a program whose other packages do.
#
#   variant  binary                         link                     GORSEQ_EXPECT
#   dyn      <out>/rseq-cgo-dyn.<arch>.test    glibc, dynamic          libc (glibc's area, found through
#                                                                        the loader's symbols);
#                                                                      library-cgo with
#                                                                        GLIBC_TUNABLES=glibc.pthread.rseq=0
#   static   <out>/rseq-cgo-static.<arch>.test glibc, static (no loader) libc-area (glibc registered an area
#                                                                        the library cannot find: fallback);
#                                                                      library-cgo with the tunable
#   musl     <out>/rseq-cgo-musl.<arch>.test   musl, static (musl-gcc;  library-cgo (musl has no rseq)
#                                              host arch only)
#
# The guest has no userland: a dynamic binary needs its program interpreter
# and libc.so.6 in the initramfs. For each arch built, <out>/vm-files.<arch>
# lists them as the harness's -file values, [arch:]/guest/path=/host/path:
# the guest path of the loader is the binary's PT_INTERP (checked), libc.so.6
# goes to /lib/<triplet>/, the first directory of the loader's built-in
# search path (the guest has no /etc/ld.so.cache). So:
#
#   go run ./internal/vm $(sed 's/^/-file /' <out>/vm-files.*) \
#     -run 'cgo-libc=env GORSEQ_EXPECT=libc <out>/rseq-cgo-dyn.{arch}.test -test.short'
#
# Go toolchain: whatever `go` runs, GOTOOLCHAIN included (GOTOOLCHAIN=go1.27.3
# builds with 1.27). The C toolchains are installed with apt-get when
# missing (needs root): gcc and libc6-dev for the host's architecture,
# gcc-<triplet> and libc6-dev-<arch>-cross for the other one (its loader and
# libc.so.6 come from libc6-<arch>-cross), musl-tools for musl. musl that
# cannot be installed or built is skipped with a message, not an error,
# unless -variants names it alone.
#
# Usage: scripts/vm/build-cgo-tests.sh [-cache DIR] [-out DIR] [-arch "amd64 arm64"]
#                                      [-variants "dyn static musl"]
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rseq-vm"
OUT=""
ARCHES="amd64 arm64"
VARIANTS="dyn static musl"
while [ $# -gt 0 ]; do
	case "$1" in
	-cache) CACHE="$2"; shift 2 ;;
	-out) OUT="$2"; shift 2 ;;
	-arch) ARCHES="$2"; shift 2 ;;
	-variants) VARIANTS="$2"; shift 2 ;;
	*) echo "usage: $0 [-cache DIR] [-out DIR] [-arch \"amd64 arm64\"] [-variants \"dyn static musl\"]" >&2; exit 2 ;;
	esac
done
OUT="${OUT:-$CACHE/cgo}"
log() { echo "build-cgo-tests: $*" >&2; }
want() { case " $VARIANTS " in *" $1 "*) return 0 ;; esac; return 1; }

hostarch=$(go env GOHOSTARCH)
log "$(go version)"

# toolchain ARCH: sets CC (the compiler for ARCH), TRIPLET, PKGS (the
# Debian packages providing it, glibc's headers, libc.a and libc.so.6 for
# ARCH) and INTERP (the program interpreter glibc's ABI names for ARCH).
toolchain() {
	case "$1" in
	amd64) TRIPLET=x86_64-linux-gnu INTERP=/lib64/ld-linux-x86-64.so.2 ;;
	arm64) TRIPLET=aarch64-linux-gnu INTERP=/lib/ld-linux-aarch64.so.1 ;;
	*) log "unsupported arch $1"; exit 2 ;;
	esac
	if [ "$1" = "$hostarch" ]; then
		CC=gcc
		PKGS="gcc libc6-dev"
		LIBC_A=/usr/lib/$TRIPLET/libc.a
	else
		CC=$TRIPLET-gcc
		PKGS="gcc-$TRIPLET libc6-dev-$1-cross"
		LIBC_A=/usr/$TRIPLET/lib/libc.a
	fi
}

# --- toolchains -----------------------------------------------------------
install() { # install PKG...: apt-get install as root; fails otherwise
	if [ "$(id -u)" != 0 ]; then
		log "need root to install: $*"
		return 1
	fi
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	apt-get install -y -q --no-install-recommends "$@" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "$@" >&2; }
}
need=()
for a in $ARCHES; do
	toolchain "$a"
	command -v "$CC" >/dev/null 2>&1 || need+=("${PKGS% *}")
	[ -f "$LIBC_A" ] || need+=("${PKGS#* }")
done
command -v file >/dev/null 2>&1 || need+=(file)
command -v readelf >/dev/null 2>&1 || need+=(binutils)
[ ${#need[@]} = 0 ] || install "${need[@]}"
musl=0
if want musl && case " $ARCHES " in *" $hostarch "*) true ;; *) false ;; esac; then
	if command -v musl-gcc >/dev/null 2>&1 || install musl-tools; then
		musl=1
	elif [ "$VARIANTS" = musl ]; then
		exit 1
	else
		log "musl: no musl-gcc (musl-tools): skipped"
	fi
fi

# --- checks ---------------------------------------------------------------
# static BIN: no program interpreter, no dynamic section.
check_static() {
	if readelf -lW "$1" | grep -qE '^ *(INTERP|DYNAMIC) '; then
		log "$1 is not static:"
		readelf -lW "$1" | grep -A1 INTERP >&2 || true
		readelf -dW "$1" | grep NEEDED >&2 || true
		exit 1
	fi
}
# dynamic BIN: the interpreter is $INTERP and libc.so.6 is the only
# library needed (vm-files provides just the loader and libc.so.6).
check_dynamic() {
	local interp needed
	interp=$(readelf -lW "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	if [ "$interp" != "$INTERP" ]; then
		log "$1: program interpreter '$interp', want $INTERP"
		exit 1
	fi
	needed=$(readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort | tr '\n' ' ')
	if [ "$needed" != "libc.so.6 " ]; then
		log "$1 needs '$needed', want just libc.so.6 (the guest gets no other library)"
		exit 1
	fi
}

# --- build ----------------------------------------------------------------
mkdir -p "$OUT"
for a in $ARCHES; do
	toolchain "$a"
	export CGO_ENABLED=1 GOOS=linux GOARCH="$a"
	if want dyn; then
		bin="$OUT/rseq-cgo-dyn.$a.test"
		log "$a: CC=$CC go test -c -tags rseqcgo (dynamic) -> $bin"
		CC="$CC" go test -c -trimpath -tags rseqcgo -o "$bin" .
		check_dynamic "$bin"
		# The loader and the C library the binary was linked against, at
		# the guest paths the binary (PT_INTERP) and the loader expect.
		ld=$(realpath -e "$($CC -print-file-name="${INTERP##*/}")")
		libc=$(realpath -e "$($CC -print-file-name=libc.so.6)")
		printf '%s\n' "$a:$INTERP=$ld" "$a:/lib/$TRIPLET/libc.so.6=$libc" >"$OUT/vm-files.$a"
		ver=$(strings -n 8 "$libc" | grep -m1 -o 'GNU C Library ([^)]*) [a-z ]*version [0-9.]*' || true)
		log "$a: dynamic ok: interpreter $INTERP ($ld), $libc: ${ver:-version unknown}"
	fi
	if want static; then
		bin="$OUT/rseq-cgo-static.$a.test"
		log "$a: CC=$CC go test -c -tags rseqcgo (static glibc) -> $bin"
		# netgo, osusergo: Go's own resolver and user lookup, not glibc's
		# NSS (which a static binary cannot load; the linker warns).
		CC="$CC" go test -c -trimpath -tags rseqcgo,netgo,osusergo -o "$bin" \
			-ldflags '-linkmode external -extldflags -static' .
		check_static "$bin"
		ver=$(strings -n 8 "$LIBC_A" 2>/dev/null | grep -m1 -o 'GNU C Library ([^)]*) [a-z ]*version [0-9.]*' || true)
		log "$a: static ok: $(file -b "$bin" | cut -d, -f1-5); ${ver:-$LIBC_A}"
	fi
	if [ "$musl" = 1 ] && [ "$a" = "$hostarch" ]; then
		bin="$OUT/rseq-cgo-musl.$a.test"
		log "$a: CC=musl-gcc go test -c -tags rseqcgo (static musl) -> $bin"
		if CC=musl-gcc go test -c -trimpath -tags rseqcgo,netgo,osusergo -o "$bin" \
			-ldflags '-linkmode external -extldflags -static' .; then
			check_static "$bin"
			log "$a: musl ok: $(file -b "$bin" | cut -d, -f1-5); $(dpkg-query -W -f '${Package} ${Version}' musl-dev 2>/dev/null || echo musl)"
		elif [ "$VARIANTS" = musl ]; then
			exit 1
		else
			rm -f "$bin"
			log "$a: musl: the build failed (above): skipped"
		fi
	fi
done
