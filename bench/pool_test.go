package bench

import (
	"sync"
	"testing"

	"github.com/gorseq/rseq"
)

const bufSize = 4096

// Get a buffer, write its first byte, put it back.
func BenchmarkBufferPool(b *testing.B) {
	b.Run("rseq.BufferPool", func(b *testing.B) {
		p, err := rseq.NewBufferPool(bufSize, 1024)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				buf := p.Get()
				buf[0] = 1
				p.Put(buf)
			}
		})
	})
	b.Run("sync.Pool", func(b *testing.B) {
		p := sync.Pool{New: func() any { s := make([]byte, bufSize); return &s }}
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				buf := p.Get().(*[]byte)
				(*buf)[0] = 1
				p.Put(buf)
			}
		})
	})
}
