package rseq

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLocksExclusion: goroutines take their CPU's lock and work on that
// index's data, yielding inside; two holders of one index never overlap
// (an atomic occupancy count, and plain counters that -race watches), and
// no increment is lost.
func TestLocksExclusion(t *testing.T) {
	logEngine(t)
	l := NewLocks()
	defer l.Close()
	type shard struct {
		inside atomic.Int32
		n      int64
		_      [48]byte
	}
	shards := make([]shard, l.Len())
	G, M := workers(), scale(100000)
	var wg sync.WaitGroup
	used := make([]atomic.Int64, l.Len())
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < M; i++ {
				k := l.Lock()
				s := &shards[k]
				if n := s.inside.Add(1); n != 1 {
					t.Errorf("%d holders of lock %d", n, k)
				}
				v := s.n
				if i%64 == 0 {
					runtime.Gosched() // migrate, and let others try this lock
				}
				s.n = v + 1
				s.inside.Add(-1)
				l.Unlock(k)
				used[k].Add(1)
				for j := 0; j < i%32; j++ { // work outside the lock, so both CPUs run holders
					spinSink.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for k := range shards {
		total += shards[k].n
		t.Logf("lock %d taken %d times", k, used[k].Load())
	}
	if total != int64(G*M) {
		t.Fatalf("total %d, want %d", total, G*M)
	}
}

// TestLocksUnlockElsewhere: a lock taken by one goroutine is released by
// another.
var spinSink atomic.Int64

func TestLocksUnlockElsewhere(t *testing.T) {
	l := NewLocks()
	defer l.Close()
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		for k := range ch {
			l.Unlock(k)
		}
		close(done)
	}()
	for i := 0; i < scale(10000); i++ {
		ch <- l.Lock()
	}
	close(ch)
	<-done
	for k := 0; k < l.Len(); k++ {
		if v := l.p.Load(k, l.off); v != 0 {
			t.Fatalf("lock %d left held (%d)", k, v)
		}
	}
}

func TestLocksMisuse(t *testing.T) {
	l := NewLocks()
	defer l.Close()
	panics(t, "Unlock of an unlocked lock", func() { l.Unlock(0) })
	panics(t, "Unlock out of range", func() { l.Unlock(l.Len()) })
	k, ok := l.TryLock()
	if !ok {
		t.Fatal("TryLock failed on free locks")
	}
	l.Unlock(k)
}

// TestLocksLockAt: a lock taken on its CPU cannot be taken from elsewhere
// until released, and the other way round; LockAt and Unlock pair from any
// CPU. (Exclusion under load between Lock and LockAt: TestShardedExclusive.)
func TestLocksLockAt(t *testing.T) {
	l := NewLocks()
	defer l.Close()
	mustPanic(t, "Locks.TryLockAt: index -1 out of range", func() { l.TryLockAt(-1) })
	mustPanic(t, "Locks.TryLockAt: index", func() { l.TryLockAt(l.Len()) })
	k := l.Lock()
	if l.TryLockAt(k) {
		t.Fatalf("TryLockAt(%d) took a held lock", k)
	}
	l.Unlock(k)
	for i := 0; i < l.Len(); i++ {
		l.LockAt(i)
	}
	if k, ok := l.TryLock(); ok {
		t.Fatalf("TryLock took lock %d while LockAt held them all", k)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		for i := 0; i < l.Len(); i++ {
			l.Unlock(i)
		}
	}()
	<-released
	l.Unlock(l.Lock())
	l.LockAt(0)
	done := make(chan struct{})
	go func() { l.LockAt(0); l.Unlock(0); close(done) }() // waits for the release below
	l.Unlock(0)
	<-done
}

func BenchmarkLocks(b *testing.B) {
	l := NewLocks()
	defer l.Close()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Unlock(l.Lock())
		}
	})
}

// BenchmarkLocksSyncMutex is the baseline: one sync.Mutex.
func BenchmarkLocksSyncMutex(b *testing.B) {
	var mu sync.Mutex
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			mu.Unlock()
		}
	})
}

func TestLocksUsedAfterClose(t *testing.T) {
	l := NewLocks()
	i := l.Lock()
	l.Unlock(i)
	l.Close()
	l.Close()
	mustPanic(t, "rseq: Locks used after Close", func() { l.Lock() })
	mustPanic(t, "rseq: Locks used after Close", func() { l.TryLock() })
	mustPanic(t, "rseq: Locks used after Close", func() { l.Unlock(0) })
	mustPanic(t, "rseq: Locks used after Close", func() { l.Len() })
}
