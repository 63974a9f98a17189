package bench

import (
	"fmt"
	"sync"
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
