#!/bin/bash
# Builds a minimal x86-64 kernel with CONFIG_RSEQ_SLICE_EXTENSION from
# Debian sid's newest linux-source-7.x, for the harness's slice-amd64
# kernel (go run ./internal/vm -kernels slice-amd64).
#
# The source comes through the harness's private apt root for sid/amd64
# (<cache>/apt/sid-amd64, created here if the harness has not run yet).
# The result is cached as <cache>/kernels/slice-amd64/<srcver>-<cfghash>/
# {vmlinuz,config,release}, with <cache>/kernels/slice-amd64/current
# pointing at it; a second run with the same source and options only
# relinks. ~11 minutes on 2 cores (7.2.13: 655 s); run it in the
# background. Needs ~2 GB under the cache for the unpacked source.
#
# Usage: scripts/vm/build-slice-kernel.sh [-cache DIR] [-jobs N] [-force]
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rseq-vm"
JOBS="$(nproc)"
FORCE=0
while [ $# -gt 0 ]; do
	case "$1" in
	-cache) CACHE="$2"; shift 2 ;;
	-jobs) JOBS="$2"; shift 2 ;;
	-force) FORCE=1; shift ;;
	*) echo "usage: $0 [-cache DIR] [-jobs N] [-force]" >&2; exit 2 ;;
	esac
done

log() { echo "build-slice-kernel: $*" >&2; }
t0=$(date +%s)

# Options switched on over tinyconfig: what the guest /init and Go test
# binaries need (serial console, initramfs, pseudo file systems, the
# syscalls the Go runtime uses), and what the rseq library tests
# (SECCOMP_FILTER needs NET; no network drivers are built).
OPTIONS="
64BIT SMP ACPI X86_MPPARSE EXPERT
PRINTK BUG TTY SERIAL_8250 SERIAL_8250_CONSOLE
BLK_DEV_INITRD BINFMT_ELF BINFMT_SCRIPT
PROC_FS SYSFS DEBUG_FS DEVTMPFS SHMEM TMPFS
MULTIUSER FUTEX EPOLL EVENTFD SIGNALFD TIMERFD POSIX_TIMERS ADVISE_SYSCALLS FILE_LOCKING
HIGH_RES_TIMERS MEMBARRIER RSEQ RSEQ_SLICE_EXTENSION SECCOMP NET SECCOMP_FILTER
"
# Numeric options. qemu's MP table names one CPU only: ACPI (above) is what
# makes -smp N visible to the guest.
VALUES="NR_CPUS=8"

# --- build dependencies --------------------------------------------------
need=""
for t in gcc:build-essential make:make flex:flex bison:bison bc:bc xz:xz-utils perl:perl; do
	command -v "${t%%:*}" >/dev/null 2>&1 || need="$need ${t#*:}"
done
[ -f /usr/include/libelf.h ] || need="$need libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || need="$need libssl-dev"
if [ -n "$need" ]; then
	log "installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >&2
fi

# --- private apt root for sid/amd64 (same layout as internal/vm/apt.go) ---
APT="$CACHE/apt/sid-amd64"
mkdir -p "$APT/etc/sources.list.d" "$APT/etc/preferences.d" "$APT/state/lists/partial" "$APT/cache/archives/partial"
[ -f "$APT/state/status" ] || : >"$APT/state/status"
[ -f "$APT/etc/sources.list" ] ||
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" >"$APT/etc/sources.list"
aptopts=(
	-o "Dir::Etc::SourceList=$APT/etc/sources.list"
	-o "Dir::Etc::SourceParts=$APT/etc/sources.list.d"
	-o "Dir::Etc::Preferences=$APT/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$APT/etc/preferences.d"
	-o "Dir::State=$APT/state" -o "Dir::State::status=$APT/state/status"
	-o "Dir::Cache=$APT/cache"
	-o APT::Architecture=amd64 -o APT::Architectures=amd64
	-o APT::Sandbox::User=root -o Acquire::Languages=none
	-o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false
)
if [ ! -f "$APT/updated" ] || [ -n "$(find "$APT/updated" -mmin +1440)" ]; then
	apt-get "${aptopts[@]}" -q update >&2
	date -u +%FT%TZ >"$APT/updated"
fi

pkg=$(apt-cache "${aptopts[@]}" pkgnames linux-source-7. | sort -V | tail -1)
[ -n "$pkg" ] || { log "no linux-source-7.x in sid"; exit 1; }
ver=$(apt-cache "${aptopts[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p')
hash=$(printf '%s\n' $OPTIONS $VALUES | sha256sum | cut -c1-12)
key="$ver-$hash"
dest="$CACHE/kernels/slice-amd64/$key"
log "source $pkg $ver, options $hash"

if [ -f "$dest/vmlinuz" ] && [ "$FORCE" = 0 ]; then
	ln -sfn "$key" "$CACHE/kernels/slice-amd64/current"
	log "cached: $dest"
	exit 0
fi

# --- source ---------------------------------------------------------------
debs="$CACHE/debs/sid-amd64"
mkdir -p "$debs"
deb=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	(cd "$debs" && apt-get "${aptopts[@]}" -q download "$pkg" >&2)
	deb=$(ls "$debs/${pkg}_"*.deb | tail -1)
fi
src="$CACHE/build/slice-src-$ver"
if [ ! -f "$src/linux/Makefile" ]; then
	rm -rf "$src"
	mkdir -p "$src/deb"
	dpkg-deb -x "$deb" "$src/deb"
	tarball=$(ls "$src"/deb/usr/src/linux-source-*.tar.* | head -1)
	mkdir -p "$src/linux"
	tar -xf "$tarball" -C "$src/linux" --strip-components=1
	rm -rf "$src/deb"
fi
t1=$(date +%s)
log "source ready in $((t1 - t0))s"

# --- configure and build --------------------------------------------------
obj="$CACHE/build/slice-obj-$key"
mkdir -p "$obj"
mk() { make -C "$src/linux" O="$obj" ARCH=x86_64 "$@"; }
mk tinyconfig >/dev/null
enable=()
for o in $OPTIONS; do enable+=(--enable "$o"); done
for v in $VALUES; do enable+=(--set-val "${v%%=*}" "${v#*=}"); done
"$src/linux/scripts/config" --file "$obj/.config" "${enable[@]}"
mk olddefconfig >/dev/null
missing=""
for o in $OPTIONS; do
	grep -qx "CONFIG_$o=y" "$obj/.config" || missing="$missing $o"
done
for v in $VALUES; do
	grep -qx "CONFIG_$v" "$obj/.config" || missing="$missing $v"
done
if [ -n "$missing" ]; then
	log "options not enabled after olddefconfig (unmet dependencies?):$missing"
	exit 1
fi
mk -j"$JOBS" bzImage >&2
t2=$(date +%s)
log "built in $((t2 - t1))s"

tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$obj/arch/x86/boot/bzImage" "$tmp/vmlinuz"
cp "$obj/.config" "$tmp/config"
mk -s kernelrelease >"$tmp/release"
rm -rf "$dest"
mv "$tmp" "$dest"
ln -sfn "$key" "$CACHE/kernels/slice-amd64/current"
# Object trees are keyed by options: drop them all once installed (the
# unpacked source stays for the next build).
rm -rf "$CACHE"/build/slice-obj-*
log "done in $(($(date +%s) - t0))s: $dest ($(cat "$dest/release"))"
