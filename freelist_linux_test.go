package rseq

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// pinTo moves the calling (locked) thread to one CPU, or skips the test.
func pinTo(t *testing.T, cpu int) {
	t.Helper()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		t.Skipf("cannot pin to CPU %d: %v", cpu, err)
	}
	runtime.Gosched()
}

// TestFreeListSteal: handles cached on one CPU are found by a Get on
// another, whose cache and the shared stack are empty.
func TestFreeListSteal(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Skip(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	cpus := []int{}
	for c := 0; c < len(orig)*64 && len(cpus) < 2; c++ {
		if orig.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		t.Skip("affinity allows one CPU")
	}
	f, err := NewFreeList(16)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pinTo(t, cpus[0])
	for h := uint32(0); h < 10; h++ {
		f.Put(h)
	}
	if ReadInfo().Usable {
		if n := f.p.Load(cpus[0], f.countOff); n != 10 {
			t.Fatalf("CPU %d caches %d handles, want 10", cpus[0], n)
		}
	}
	pinTo(t, cpus[1])
	seen := map[uint32]bool{}
	for i := 0; i < 10; i++ {
		h, ok := f.Get()
		if !ok {
			t.Fatalf("Get %d on CPU %d found nothing: handles cached on CPU %d not stolen", i, cpus[1], cpus[0])
		}
		if seen[h] {
			t.Fatalf("handle %d twice", h)
		}
		seen[h] = true
	}
	if _, ok := f.Get(); ok {
		t.Fatal("more handles than were put")
	}
}
