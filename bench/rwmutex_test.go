package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorseq/rseq"
	"github.com/puzpuzpuz/xsync/v4"
)

// The critical section reads (or, for writers, increments) one shared
// word: the cost measured is the lock's.

var writeMixes = []struct {
	name  string
	every int // one write every this many operations; 0: none
}{{"reads", 0}, {"writes=0.1%", 1000}, {"writes=1%", 100}, {"writes=10%", 10}, {"writes=100%", 1}}

// rwLock is what the mixes need of a reader/writer lock.
type rwLock interface {
	Lock()
	Unlock()
	RLock()
	RUnlock()
}

// rbMutex adapts xsync.RBMutex, whose RLock returns a token.
type rbMutex struct{ mu *xsync.RBMutex }

func (r rbMutex) Lock()   { r.mu.Lock() }
func (r rbMutex) Unlock() { r.mu.Unlock() }

// The interface methods are not used for xsync's readers (see mixed).
func (r rbMutex) RLock()   { panic("unused") }
func (r rbMutex) RUnlock() { panic("unused") }

func BenchmarkRWMutex(b *testing.B) {
	for _, mix := range writeMixes {
		b.Run(fmt.Sprintf("rseq.RWMutex/%s", mix.name), func(b *testing.B) {
			var mu rseq.RWMutex
			var x int64
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var sink int64
				for i := 1; pb.Next(); i++ {
					if mix.every > 0 && i%mix.every == 0 {
						mu.Lock()
						x++
						mu.Unlock()
					} else {
						mu.RLock()
						sink += x
						mu.RUnlock()
					}
				}
				_ = sink
			})
		})
		if mix.every == 0 {
			// The ceiling of any per-CPU reader lock on this machine: what
			// rseq.RWMutex's readers do (add to this P's lock count, load
			// the shared writer word, read, add to this P's unlock count),
			// each add a plain increment pinned to the P. It is not a lock
			// (no writer could use it); it bounds what a reader can cost.
			b.Run("ceiling:per-P-reader/reads", func(b *testing.B) {
				s := make([]perPSlot, 2*256)
				var w, x int64
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					var sink int64
					for pb.Next() {
						s[2*(procPin()&255)].n++
						procUnpin()
						if atomic.LoadInt64(&w) == 0 {
							sink += x
						}
						s[2*(procPin()&255)+1].n++
						procUnpin()
					}
					_ = sink
				})
			})
		}
		b.Run(fmt.Sprintf("sync.RWMutex/%s", mix.name), func(b *testing.B) {
			var mu sync.RWMutex
			var x int64
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var sink int64
				for i := 1; pb.Next(); i++ {
					if mix.every > 0 && i%mix.every == 0 {
						mu.Lock()
						x++
						mu.Unlock()
					} else {
						mu.RLock()
						sink += x
						mu.RUnlock()
					}
				}
				_ = sink
			})
		})
		b.Run(fmt.Sprintf("xsync.RBMutex/%s", mix.name), func(b *testing.B) {
			mu := xsync.NewRBMutex()
			var x int64
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var sink int64
				for i := 1; pb.Next(); i++ {
					if mix.every > 0 && i%mix.every == 0 {
						mu.Lock()
						x++
						mu.Unlock()
					} else {
						t := mu.RLock()
						sink += x
						mu.RUnlock(t)
					}
				}
				_ = sink
			})
		})
	}
}

// BenchmarkRWMutexWriterLoop: one goroutine, Lock and Unlock and nothing
// else (no reader ever comes).
func BenchmarkRWMutexWriterLoop(b *testing.B) {
	b.Run("rseq.RWMutex", func(b *testing.B) {
		var mu rseq.RWMutex
		var x int64
		for b.Loop() {
			mu.Lock()
			x++
			mu.Unlock()
		}
	})
	b.Run("sync.RWMutex", func(b *testing.B) {
		var mu sync.RWMutex
		var x int64
		for b.Loop() {
			mu.Lock()
			x++
			mu.Unlock()
		}
	})
	b.Run("xsync.RBMutex", func(b *testing.B) {
		mu := xsync.NewRBMutex()
		var x int64
		for b.Loop() {
			mu.Lock()
			x++
			mu.Unlock()
		}
	})
}

// phasePeriod is the length of each phase of BenchmarkRWMutexPhases.
const phasePeriod = 10 * time.Millisecond

// BenchmarkRWMutexPhases alternates read-only phases and phases with 10%
// writes, phasePeriod each, switched by a clock goroutine while the
// workers run. Besides ns/op over the whole run it reports read-ns/op and
// write-ns/op: wall time spent in each kind of phase divided by the
// operations done in it (all workers together), which show whether the
// lock switches to its read-mostly speed in the read phases and to its
// write-heavy speed in the others.
func BenchmarkRWMutexPhases(b *testing.B) {
	b.Run("rseq.RWMutex", func(b *testing.B) { phases(b, new(rseq.RWMutex)) })
	b.Run("sync.RWMutex", func(b *testing.B) { phases(b, new(sync.RWMutex)) })
	b.Run("xsync.RBMutex", func(b *testing.B) { phases(b, rbMutex{xsync.NewRBMutex()}) })
}

func phases(b *testing.B, mu rwLock) {
	var phase atomic.Int32 // 0: reads only, 1: 10% writes
	var ops [2]atomic.Int64
	var wall [2]time.Duration
	stop := make(chan struct{})
	clock := make(chan struct{})
	rb, isRB := mu.(rbMutex)
	var x int64
	b.SetParallelism(4)
	b.ResetTimer()
	go func() {
		defer close(clock)
		t := time.NewTicker(phasePeriod)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-stop:
				wall[phase.Load()] += time.Since(start)
				return
			case now := <-t.C:
				p := phase.Load()
				wall[p] += now.Sub(start)
				start = now
				phase.Store(1 - p)
			}
		}
	}()
	b.RunParallel(func(pb *testing.PB) {
		var sink int64
		var n [2]int64
		for i := 1; pb.Next(); i++ {
			p := phase.Load()
			n[p]++
			switch {
			case p == 1 && i%10 == 0:
				mu.Lock()
				x++
				mu.Unlock()
			case isRB:
				t := rb.mu.RLock()
				sink += x
				rb.mu.RUnlock(t)
			default:
				mu.RLock()
				sink += x
				mu.RUnlock()
			}
		}
		ops[0].Add(n[0])
		ops[1].Add(n[1])
		_ = sink
	})
	close(stop)
	<-clock
	for p, name := range []string{"read-ns/op", "write-ns/op"} {
		if n := ops[p].Load(); n > 0 {
			b.ReportMetric(float64(wall[p].Nanoseconds())/float64(n), name)
		}
	}
}
