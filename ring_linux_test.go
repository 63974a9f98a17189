package rseq

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRingPinned pins the thread to each CPU in turn: that CPU's ring keeps
// exactly the first Slots() records pushed and refuses the rest, and
// rounds of push-then-drain wrap the indexes around the slots with every
// record coming back in order.
func TestRingPinned(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Skip(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	const slots = 4
	q, err := NewRing(24, slots, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	buf := make([]byte, 24)
	for cpu := 0; cpu < q.CPUs(); cpu++ {
		if !orig.IsSet(cpu) {
			continue
		}
		pinTo(t, cpu)
		if got := CPU(); got != cpu {
			t.Fatalf("pinned to %d, running on %d", cpu, got)
		}
		var seqs []uint64
		collect := func(at int, rec []byte) {
			if at != cpu {
				t.Errorf("record from index %d, pinned to %d", at, cpu)
			}
			s, ok := checkRecord(rec)
			if !ok {
				t.Errorf("torn record")
			}
			seqs = append(seqs, s)
		}
		dropsBefore := q.Dropped()
		for seq := range 3 * slots {
			fillRecord(buf, uint64(seq), 0)
			if ok := q.Push(buf); ok != (seq < slots) {
				t.Fatalf("CPU %d: Push of record %d = %v with %d slots", cpu, seq, ok, slots)
			}
		}
		if d := q.Dropped() - dropsBefore; d != 2*slots {
			t.Fatalf("CPU %d: %d drops, want %d", cpu, d, 2*slots)
		}
		if n := q.DrainCPU(cpu, collect); n != slots {
			t.Fatalf("CPU %d: drained %d, want %d", cpu, n, slots)
		}
		next := uint64(0)
		for _, s := range seqs {
			if s != next {
				t.Fatalf("CPU %d: records %v, want 0..%d: the full ring was overwritten", cpu, seqs, slots-1)
			}
			next++
		}
		// Rounds of 3 records through 4 slots: the indexes wrap every
		// few rounds; each round comes back whole and in order.
		for round := range 20 {
			seqs = seqs[:0]
			for k := range 3 {
				fillRecord(buf, uint64(100*round+k), 0)
				if !q.Push(buf) {
					t.Fatalf("CPU %d round %d: Push refused with room", cpu, round)
				}
			}
			q.Drain(collect)
			if len(seqs) != 3 || seqs[0] != uint64(100*round) || seqs[1] != seqs[0]+1 || seqs[2] != seqs[0]+2 {
				t.Fatalf("CPU %d round %d: records %v", cpu, round, seqs)
			}
		}
	}
}

// mapping returns the permissions ("rw-p", "---p") of the mapping that
// holds addr in /proc/self/maps, or "" if none does.
func mapping(t *testing.T, addr uintptr) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var lo, hi uintptr
		var perm string
		if n, _ := fmt.Sscanf(line, "%x-%x %s", &lo, &hi, &perm); n == 3 && lo <= addr && addr < hi {
			return perm
		}
	}
	return ""
}

// TestRingCloseReservesAddresses: Close gives the ring's memory back but
// keeps its addresses reserved, inaccessible, while the Ring is reachable
// (a Push racing with Close then faults instead of writing into a new
// mapping there); once the Ring is unreachable they are unmapped.
func TestRingCloseReservesAddresses(t *testing.T) {
	if raceEnabled {
		t.Skip("race builds keep rings in the Go heap")
	}
	q, err := NewRing(64, 1024, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	addr := uintptr(q.mem.base)
	if p := mapping(t, addr); !strings.HasPrefix(p, "rw") {
		t.Fatalf("open ring mapped %q", p)
	}
	q.Close()
	if p := mapping(t, addr); p != "---p" {
		t.Fatalf("closed ring's addresses mapped %q, want reserved (---p)", p)
	}
	runtime.KeepAlive(q)
	q = nil
	for i := 0; i < 50 && mapping(t, addr) == "---p"; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if p := mapping(t, addr); p == "---p" {
		t.Fatalf("unreachable closed ring's addresses still reserved")
	}
}
