package rseq

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// stats is a value with pointers, as programs shard them: a map, lazily
// made inside Update.
type stats struct {
	inside atomic.Int32 // holders right now: must never exceed 1
	n      int64        // plain: -race watches it
	byKey  map[int]int64
}

// TestShardedExclusive: goroutines update their CPU's value under
// preemption, profiling signals and a signal storm, sometimes yielding
// inside f, while a visitor sums every value under its lock; no value is
// ever held by two of them at once (the occupancy count inside f and the
// visitor, and the race detector on the plain fields), and every update
// is counted exactly once, in n and in the map.
func TestShardedExclusive(t *testing.T) {
	logEngine(t)
	s := NewSharded[stats]()
	if s.Len() != PossibleCPUs() {
		t.Fatalf("Len %d, want %d", s.Len(), PossibleCPUs())
	}
	enter := func(v *stats, who string) {
		if n := v.inside.Add(1); n != 1 {
			t.Errorf("%s: %d holders of one value", who, n)
		}
	}
	M := opsPerGoroutine() / 2
	var stop atomic.Bool
	var visits atomic.Int64
	var vw sync.WaitGroup
	vw.Add(1)
	go func() {
		defer vw.Done()
		for !stop.Load() {
			var total int64
			for _, v := range s.All() {
				enter(v, "All")
				total += v.n
				for _, c := range v.byKey {
					total -= c
				}
				v.inside.Add(-1)
			}
			if total != 0 {
				t.Errorf("n and the map disagree by %d", total)
			}
			visits.Add(1)
			runtime.Gosched()
		}
	}()
	var G atomic.Int64
	hammer(t, func(g int) {
		G.Add(1)
		for i := 0; i < M; i++ {
			s.Update(func(v *stats) {
				enter(v, "Update")
				if v.byKey == nil {
					v.byKey = make(map[int]int64)
				}
				n := v.n
				if i%256 == 0 {
					runtime.Gosched() // preempted or migrated while holding the value
				}
				v.n = n + 1
				v.byKey[g]++
				v.inside.Add(-1)
			})
		}
	})
	stop.Store(true)
	vw.Wait()
	var total int64
	perG := map[int]int64{}
	for _, v := range s.All() {
		total += v.n
		for g, c := range v.byKey {
			perG[g] += c
		}
	}
	if want := G.Load() * int64(M); total != want {
		t.Fatalf("total %d, want %d", total, want)
	}
	for g := 0; g < int(G.Load()); g++ {
		if perG[g] != int64(M) {
			t.Errorf("goroutine %d: %d updates counted, want %d", g, perG[g], M)
		}
	}
	t.Logf("%d visits of every value during the load", visits.Load())
}

// TestShardedReleases: a panic in f and a loop over All left early both
// release the lock they held.
func TestShardedReleases(t *testing.T) {
	s := NewSharded[int]()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		s.Update(func(*int) { panic("in f") })
	}()
	for i, v := range s.All() {
		*v = i + 1
		if i == 0 {
			break
		}
	}
	for i := 0; i < s.Len(); i++ {
		if !s.locks.TryLockAt(i) {
			t.Fatalf("lock %d left held", i)
		}
		s.locks.Unlock(i)
	}
	s.Update(func(v *int) { *v += 10 })
	sum := 0
	for _, v := range s.All() {
		sum += *v
	}
	if sum != 11 {
		t.Fatalf("sum %d, want 11", sum)
	}
}

// TestShardedPadding: no two values lie within two cache lines of each
// other.
func TestShardedPadding(t *testing.T) {
	s := NewSharded[[3]int64]()
	for i := 1; i < s.Len(); i++ {
		end := uintptr(unsafe.Pointer(&s.shards[i-1].v)) + unsafe.Sizeof(s.shards[i-1].v)
		if gap := uintptr(unsafe.Pointer(&s.shards[i].v)) - end; gap < shardPad {
			t.Fatalf("values %d and %d are %d bytes apart", i-1, i, gap)
		}
	}
}

func TestShardedUpdateAllocs(t *testing.T) {
	s := NewSharded[int64]()
	d := int64(3)
	if n := testing.AllocsPerRun(1000, func() { s.Update(func(v *int64) { *v += d }) }); n != 0 {
		t.Errorf("Update allocates %v times", n)
	}
}

func BenchmarkShardedUpdate(b *testing.B) {
	s := NewSharded[int64]()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Update(func(v *int64) { *v++ })
		}
	})
}
