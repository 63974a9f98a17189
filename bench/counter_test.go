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
