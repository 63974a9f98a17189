package rseq

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkGetcpuSyscall is what CPU() costs without rseq.
func BenchmarkGetcpuSyscall(b *testing.B) {
	var c, n uint32
	for i := 0; i < b.N; i++ {
		unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	}
}
