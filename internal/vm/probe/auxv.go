//go:build linux

package main

import (
	"encoding/binary"
	"os"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
	"golang.org/x/sys/unix"
)

// Aux vector keys for rseq (Linux 6.3+); not in x/sys/unix.
const (
	atRseqFeatureSize = abi.ATFeatureSize
	atRseqAlign       = abi.ATAlign
)

// auxRseq returns AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN, 0 when absent.
// It asks the runtime's copy of the aux vector first and falls back to
// /proc/self/auxv.
func auxRseq() (featureSize, align uint64) {
	pairs, err := unix.Auxv()
	if err != nil {
		pairs = procAuxv()
	}
	for _, p := range pairs {
		switch p[0] {
		case atRseqFeatureSize:
			featureSize = uint64(p[1])
		case atRseqAlign:
			align = uint64(p[1])
		}
	}
	return featureSize, align
}

// procAuxv reads /proc/self/auxv as native-endian word pairs.
func procAuxv() [][2]uintptr {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return nil
	}
	const w = int(unsafe.Sizeof(uintptr(0)))
	var pairs [][2]uintptr
	for i := 0; i+2*w <= len(b); i += 2 * w {
		k := uintptr(binary.NativeEndian.Uint64(b[i:]))
		v := uintptr(binary.NativeEndian.Uint64(b[i+w:]))
		pairs = append(pairs, [2]uintptr{k, v})
	}
	return pairs
}
