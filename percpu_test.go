package rseq

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

func newTestPerCPU(t testing.TB, stride uintptr, by Indexing) *PerCPU {
	t.Helper()
	n := PossibleCPUs()
	p, err := NewPerCPU(offHeap(t, int(stride)*n), stride, n, by)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sum(p *PerCPU, off uintptr) (s uint64) {
	for i := 0; i < p.Len(); i++ {
		s += p.Load(i, off)
	}
	return s
}

func TestAddExact(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		p := newTestPerCPU(t, 64, by)
		ops := opsPerGoroutine()
		var goroutines atomic.Int64
		hammer(t, func(g int) {
			goroutines.Add(1)
			for i := 0; i < ops; i++ {
				if _, at, r := p.Add(Current, 16, 1); r != Committed || at < 0 || at >= p.Len() {
					t.Errorf("Add: %v at %d", r, at)
					return
				}
			}
		})
		if got, want := sum(p, 16), uint64(goroutines.Load())*uint64(ops); got != want {
			t.Fatalf("sum %d, want %d", got, want)
		}
		if s := sum(p, 8) + sum(p, 24); s != 0 {
			t.Fatalf("neighbouring words changed: %d", s)
		}
	})
}

// TestCompareAndSwapExplicit increments with read-then-CAS on the explicit
// index the goroutine believes it runs on: NotOnCPU and Failed answers are
// retried, and the sum must still be exact.
func TestCompareAndSwapExplicit(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		p := newTestPerCPU(t, 64, by)
		ops := opsPerGoroutine() / 4
		var commits, notOn, failed atomic.Int64
		hammer(t, func(g int) {
			var c, n, f int64
			for i := 0; i < ops; {
				idx := indexFor(p, by, g)
				old := p.Load(idx, 0)
				_, _, r := p.CompareAndSwap(idx, 0, old, old+1)
				switch r {
				case Committed:
					c++
					i++
				case NotOnCPU:
					n++
				case Failed:
					f++
				}
			}
			commits.Add(c)
			notOn.Add(n)
			failed.Add(f)
		})
		if got, want := sum(p, 0), uint64(commits.Load()); got != want {
			t.Fatalf("sum %d, want %d commits", got, want)
		}
		t.Logf("commits %d, not on CPU %d, compare failed %d", commits.Load(), notOn.Load(), failed.Load())
	})
}

// TestCompareAndSwapGuarded: commits only while the shared guard holds the
// expected value; a goroutine flips the guard all along.
func TestCompareAndSwapGuarded(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		p := newTestPerCPU(t, 64, by)
		var guard uint64
		ops := opsPerGoroutine() / 4
		var commits atomic.Int64
		stop := make(chan struct{})
		var flipper sync.WaitGroup
		flipper.Add(1)
		go func() {
			defer flipper.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				atomic.StoreUint64(&guard, 1)
				runtime.Gosched()
				atomic.StoreUint64(&guard, 0)
				runtime.Gosched()
			}
		}()
		hammer(t, func(g int) {
			var c int64
			for i := 0; i < ops; i++ {
				idx := indexFor(p, by, g)
				old := p.Load(idx, 8)
				if _, _, r := p.CompareAndSwapGuarded(idx, 8, old, old+1, &guard, 0); r == Committed {
					c++
				}
			}
			commits.Add(c)
		})
		close(stop)
		flipper.Wait()
		if got, want := sum(p, 8), uint64(commits.Load()); got != want {
			t.Fatalf("sum %d, want %d commits", got, want)
		}
		// With the guard set, nothing may commit.
		atomic.StoreUint64(&guard, 7)
		for i := 0; i < 1000; i++ {
			idx := indexFor(p, by, 0)
			if _, _, r := p.CompareAndSwapGuarded(idx, 8, p.Load(idx, 8), 0, &guard, 0); r == Committed {
				t.Fatal("committed with the guard not matching")
			}
		}
		t.Logf("commits %d", commits.Load())
	})
}

// TestPushPopHandles moves unique handles between goroutines through the
// per-CPU LIFOs: at the end every handle must be found exactly once.
func TestPushPopHandles(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		const capacity = 30 // words 1..30 of a 256-byte block; word 0 counts
		p := newTestPerCPU(t, 256, by)
		ops := opsPerGoroutine() / 2
		const perG = 64
		var mu sync.Mutex
		var held []uint64
		var ngo atomic.Int64
		hammer(t, func(g int) {
			ngo.Add(1)
			mine := make([]uint64, 0, perG*4)
			for h := 0; h < perG; h++ {
				mine = append(mine, uint64(g*perG+h+1))
			}
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < ops; i++ {
				if len(mine) > 0 && r.IntN(2) == 0 {
					v := mine[len(mine)-1]
					if _, _, res := p.Push(Current, 0, 8, capacity, v); res == Committed {
						mine = mine[:len(mine)-1]
					}
				} else if v, _, res := p.Pop(Current, 0, 8, capacity); res == Committed {
					mine = append(mine, v)
				}
			}
			mu.Lock()
			held = append(held, mine...)
			mu.Unlock()
		})
		for i := 0; i < p.Len(); i++ {
			for {
				v, _, r := p.Pop(i, 0, 8, capacity)
				if r == NotOnCPU { // drain another CPU's list: read it directly
					c := p.Load(i, 0)
					for k := uint64(0); k < c; k++ {
						held = append(held, p.Load(i, 8+uintptr(k)*8))
					}
					break
				}
				if r != Committed {
					break
				}
				held = append(held, v)
			}
		}
		seen := map[uint64]int{}
		for _, v := range held {
			seen[v]++
		}
		total := int(ngo.Load()) * perG
		if len(held) != total || len(seen) != total {
			t.Fatalf("%d handles found (%d distinct), want %d", len(held), len(seen), total)
		}
		for v, c := range seen {
			if c != 1 || v == 0 || v > uint64(total) {
				t.Fatalf("handle %d found %d times", v, c)
			}
		}
	})
}

// TestCopyRecords: each commit copies a checksummed 64-byte record into a
// per-CPU log of 8 slots and bumps the log's sequence. At the end every
// CPU's last records must be whole, in sequence, and the sequences must add
// up to the commits.
func TestCopyRecords(t *testing.T) {
	modes(t, func(t *testing.T, by Indexing) {
		const rec, slotsN = 64, 8
		p := newTestPerCPU(t, 8+rec*slotsN, by)
		ops := opsPerGoroutine() / 4
		var commits atomic.Int64
		hammer(t, func(g int) {
			var c int64
			var buf [rec]byte
			for i := 0; i < ops; i++ {
				idx := indexFor(p, by, g)
				seq := p.Load(idx, 0)
				fillRecord(buf[:], seq, uint64(g))
				dst := 8 + uintptr(seq%slotsN)*rec
				if _, _, r := p.CopyAndStore(idx, 0, seq, dst, buf[:], seq+1); r == Committed {
					c++
				}
			}
			commits.Add(c)
		})
		// The slot of sequence seq (the oldest record's, seq-slotsN) is
		// the one the next section copies into: an aborted section may
		// have left part of record seq there, as CopyAndStore documents.
		// The other slotsN-1 slots hold the last records, whole.
		var total uint64
		for i := 0; i < p.Len(); i++ {
			seq := p.Load(i, 0)
			total += seq
			for s := seq - min(seq, slotsN-1); s < seq; s++ {
				b := unsafe.Slice((*byte)(unsafe.Add(p.s.block(i), 8+uintptr(s%slotsN)*rec)), rec)
				if got, ok := checkRecord(b); !ok || got != s {
					t.Fatalf("index %d slot for sequence %d: record ok=%v sequence %d", i, s, ok, got)
				}
			}
		}
		if total != uint64(commits.Load()) {
			t.Fatalf("sequences add up to %d, want %d commits", total, commits.Load())
		}
	})
}

func fillRecord(b []byte, seq, writer uint64) {
	binary.LittleEndian.PutUint64(b[0:], seq)
	binary.LittleEndian.PutUint64(b[8:], writer)
	for i := 16; i < len(b)-4; i++ {
		b[i] = byte(seq*31 + writer*7 + uint64(i))
	}
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
}

func checkRecord(b []byte) (uint64, bool) {
	ok := binary.LittleEndian.Uint32(b[len(b)-4:]) == crc32.ChecksumIEEE(b[:len(b)-4])
	return binary.LittleEndian.Uint64(b), ok
}
