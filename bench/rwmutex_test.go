package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorseq/rseq"
	"github.com/puzpuzpuz/xsync/v4"
)

// The critical section reads (or, for writers, increments) one shared
// word: the cost measured is the lock's.

var writeMixes = []struct {
	name  string
	every int // one write every this many operations; 0: none
}{{"reads", 0}, {"writes=1%", 100}, {"writes=10%", 10}}

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
