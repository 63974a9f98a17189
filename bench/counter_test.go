package bench

import (
	"sync/atomic"
	"testing"

	"github.com/gorseq/rseq"
	"github.com/puzpuzpuz/xsync/v4"
)

func BenchmarkCounter(b *testing.B) {
	b.Run("rseq.Counter", func(b *testing.B) {
		c := rseq.NewCounter()
		defer c.Close()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	b.Run("atomic.AddInt64", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n.Add(1)
			}
		})
	})
	// The ceiling of any sharded counter on this machine: a plain
	// (non-atomic) increment of the P's own word, pinned to the P so that
	// it is correct. No per-CPU scheme can be faster than this; the ratio
	// atomic / ceiling bounds the speed-up one can expect here.
	b.Run("ceiling:plain-per-P", func(b *testing.B) {
		s := make([]perPSlot, 256)
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s[procPin()&255].n++
				procUnpin()
			}
		})
	})
	// What a Go program shards by P today: an atomic add to the P's own
	// word (procPin only picks the word; the atomic keeps it correct if the
	// goroutine moves before the add).
	b.Run("per-P-shard+atomic", func(b *testing.B) {
		s := make([]perPSlot, 256)
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := procPin()
				procUnpin()
				atomic.AddInt64(&s[i&255].n, 1)
			}
		})
	})
	b.Run("xsync.Counter", func(b *testing.B) {
		c := xsync.NewCounter()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
}

// BenchmarkCounterOneGoroutine is the cost of one Inc with no contention:
// the call and the section, which is what the Counter's own code adds to
// (a lazily initialised zero Counter must not cost more than NewCounter's).
func BenchmarkCounterOneGoroutine(b *testing.B) {
	b.Run("rseq.Counter", func(b *testing.B) {
		c := rseq.NewCounter()
		defer c.Close()
		for b.Loop() {
			c.Inc()
		}
	})
	b.Run("atomic.AddInt64", func(b *testing.B) {
		var n atomic.Int64
		for b.Loop() {
			n.Add(1)
		}
	})
}
