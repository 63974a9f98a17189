package rseq

import (
	"sync"
	"testing"
	"unsafe"
)

// TestFallbackLocksSpread: blocks a page apart must not all share a lock.
func TestFallbackLocksSpread(t *testing.T) {
	locks := map[*sync.Mutex]bool{}
	mem := make([]byte, 65*4096)
	base := unsafe.Pointer(&mem[0])
	base = unsafe.Add(base, 4096-uintptr(base)%4096) // page-aligned
	for i := 0; i < 64; i++ {
		locks[fbLock(unsafe.Add(base, i*4096))] = true
	}
	if len(locks) < 32 {
		t.Fatalf("64 page-aligned blocks use only %d of 64 locks", len(locks))
	}
}
