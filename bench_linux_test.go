package rseq

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkGetcpuSyscall is the baseline CPU() replaces: getcpu(2) (Linux
// only; other systems have no such call).
func BenchmarkGetcpuSyscall(b *testing.B) {
	var c, n uint32
	for i := 0; i < b.N; i++ {
		unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	}
}
