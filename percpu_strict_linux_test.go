//go:build linux

package rseq

import (
	"errors"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestStrictRetryDecidesOnCurrentThread: an engine-only operation whose
// section ran on a fresh, unregistered thread (stUnregistered) and whose
// goroutine now runs on a registered thread must run the section again,
// not fail (issue 15 item 2: SharedCounter.Add panicked after an ordinary
// migration). On a CPU past the memory's blocks it fails with that reason.
func TestStrictRetryDecidesOnCurrentThread(t *testing.T) {
	requireEngine(t, "an engine-only operation")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := registerCurrent(); err != nil {
		t.Fatal(err)
	}
	p := newTestPerCPU(t, 64, ByCPU)
	if err := p.strictRetry(stUnregistered); err != nil {
		t.Fatalf("stUnregistered seen on a registered thread: %v, want a retry", err)
	}

	// Pin to a CPU other than 0 and describe memory for CPU 0 only.
	var mask, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mask); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &mask)
	cpu := -1
	for c := 1; c < PossibleCPUs(); c++ {
		if mask.IsSet(c) {
			cpu = c
			break
		}
	}
	if cpu < 0 {
		t.Skip("needs a CPU other than 0 in the affinity mask")
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	mem := make([]uint64, 8)
	small, err := NewPerCPU(unsafe.Pointer(&mem[0]), 64, 1, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	var ie *strictIndexError
	if err := small.strictAdd(0, 1); !errors.As(err, &ie) || ie.id != cpu {
		t.Fatalf("add on CPU %d to memory for CPU 0 only: %v", cpu, err)
	} else {
		t.Log(err)
	}
	if mem[0] != 0 {
		t.Fatalf("the refused add wrote %d", mem[0])
	}
}
