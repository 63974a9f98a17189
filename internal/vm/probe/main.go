//go:build linux

// Command probe is the VM harness's self-test: a static Go program that
// reports what the running kernel offers for restartable sequences.
//
// It prints the kernel release, AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN
// from the aux vector, registers an rseq area of max(32, feature size)
// bytes rounded up to the alignment (the "V2" length on 7.0+ kernels) with
// the raw syscall, and prints the result and the kernel-written fields.
// It then tries the time slice extension prctl, checks that registering
// again answers EBUSY, unregisters, and registers the legacy 32-byte
// length once more. The last line is a one-line summary, which the harness
// repeats under its table:
//
//	VMTEST NOTE PROBE release=... feature_size=33 align=64 len=64 rc=0 cpu_id=1 mm_cid=0 ...
//
// It exits 0 when the first registration succeeded.
package main

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func main() {
	// The registration belongs to this OS thread: keep the goroutine on it
	// for the whole program.
	runtime.LockOSThread()

	release := uname()
	featureSize, align := auxRseq()
	fmt.Printf("probe: release=%s goarch=%s\n", release, runtime.GOARCH)
	fmt.Printf("probe: AT_RSEQ_FEATURE_SIZE=%d AT_RSEQ_ALIGN=%d (0 = absent)\n", featureSize, align)

	a, err := newArea()
	if err != nil {
		fmt.Printf("probe: mmap: %v\n", err)
		os.Exit(1)
	}
	length := areaLength(featureSize, align)
	err = a.register(length, 0)
	fmt.Printf("probe: rseq(len=%d) = %s\n", length, errString(err))
	fmt.Printf("probe: after registration: %s\n", a.fields())
	regErr, first := err, a.snapshot

	slice := "n/a"
	if err == nil {
		slice = sliceExtension(a)
		reErr := a.register(length, 0)
		fmt.Printf("probe: register again = %s (want EBUSY)\n", errString(reErr))
		unErr := a.register(length, flagUnregister)
		fmt.Printf("probe: unregister = %s\n", errString(unErr))
		if length != 32 && unErr == nil {
			a.reset()
			legacyErr := a.register(32, 0)
			fmt.Printf("probe: rseq(len=32) = %s, %s\n", errString(legacyErr), a.fields())
			if legacyErr == nil {
				fmt.Printf("probe: unregister len=32 = %s\n", errString(a.register(32, flagUnregister)))
			}
		}
	}

	f := first
	fmt.Printf("VMTEST NOTE PROBE release=%s arch=%s feature_size=%d align=%d len=%d rc=%s cpu_id=%d mm_cid=%d node_id=%d flags=%#x slice=%s\n",
		release, runtime.GOARCH, featureSize, align, length, errString(regErr),
		int32(f.cpuID), f.mmCID, f.nodeID, f.flags, slice)
	runtime.KeepAlive(a)
	if regErr != nil {
		os.Exit(1)
	}
}

// sliceExtension reads and tries to enable the time slice extension for
// this thread and describes the outcome.
func sliceExtension(a *area) string {
	get, errGet := unix.PrctlRetInt(unix.PR_RSEQ_SLICE_EXTENSION, unix.PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0)
	fmt.Printf("probe: prctl(SLICE_EXTENSION, GET) = %d %s\n", get, errString(errGet))
	_, errSet := unix.PrctlRetInt(unix.PR_RSEQ_SLICE_EXTENSION, unix.PR_RSEQ_SLICE_EXTENSION_SET, unix.PR_RSEQ_SLICE_EXT_ENABLE, 0, 0)
	fmt.Printf("probe: prctl(SLICE_EXTENSION, SET, 1) = %s, %s\n", errString(errSet), a.fields())
	if errSet != nil {
		return "set:" + errString(errSet)
	}
	return fmt.Sprintf("enabled(flags=%#x)", a.read().flags)
}

func uname() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// errENOTSUPP is the kernel-internal ENOTSUPP (524) that the slice
// extension prctl returns when the feature is disabled or the
// registration is legacy; libc has no name for it.
const errENOTSUPP = unix.Errno(524)

// errString names an errno ("EBUSY"), or returns "0" for success.
func errString(err error) string {
	if err == nil {
		return "0"
	}
	if e, ok := err.(unix.Errno); ok {
		if e == errENOTSUPP {
			return "ENOTSUPP"
		}
		if name := unix.ErrnoName(e); name != "" {
			return name
		}
		return fmt.Sprintf("errno%d", int(e))
	}
	return err.Error()
}
