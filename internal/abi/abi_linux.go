//go:build linux

package abi

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Auxv returns AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN, 0 where the kernel
// does not report them (before 6.3).
func Auxv() (featureSize, align int) {
	av, err := unix.Auxv()
	if err != nil {
		return 0, 0
	}
	for _, kv := range av {
		switch kv[0] {
		case ATFeatureSize:
			featureSize = int(kv[1])
		case ATAlign:
			align = int(kv[1])
		}
	}
	return featureSize, align
}

// Register calls rseq(area, length, flags, sig) on the calling thread and
// returns the errno (0 on success). Registering the same area, length and
// signature again answers EBUSY; another area or length EINVAL; another
// signature EPERM.
func Register(area unsafe.Pointer, length, flags int, sig uint32) unix.Errno {
	_, _, e := unix.Syscall6(unix.SYS_RSEQ, uintptr(area), uintptr(length), uintptr(flags), uintptr(sig), 0, 0)
	return e
}
