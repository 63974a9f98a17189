package bench

import (
	"sync"
	"testing"

	"github.com/gorseq/rseq"
)

const (
	bufSize  = 4096
	bufCount = 1024
)

// Get a buffer, write its first byte, put it back: rseq.BufferPool beside
// sync.Pool (of *[]byte, the allocation-free way to pool slices), and the
// part of BufferPool's cost that is its free list (rseq.FreeList Get+Put
// of a handle, no buffer): BufferPool minus FreeList is what the buffer's
// own checks (ownership, double Put) and the slice cost.
func BenchmarkBufferPool(b *testing.B) {
	b.Run("rseq.BufferPool", func(b *testing.B) {
		p, err := rseq.NewBufferPool(bufSize, bufCount)
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
	b.Run("part:rseq.FreeList", func(b *testing.B) {
		f := newFreeList(b)
		defer f.Close()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h, _ := f.Get()
				f.Put(h)
			}
		})
	})
}

// The same with one goroutine: no preemption or migration between Get
// and Put, so the cost of the calls and checks alone.
func BenchmarkBufferPoolOneGoroutine(b *testing.B) {
	b.Run("rseq.BufferPool", func(b *testing.B) {
		p, err := rseq.NewBufferPool(bufSize, bufCount)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		for b.Loop() {
			buf := p.Get()
			buf[0] = 1
			p.Put(buf)
		}
	})
	b.Run("sync.Pool", func(b *testing.B) {
		p := sync.Pool{New: func() any { s := make([]byte, bufSize); return &s }}
		for b.Loop() {
			buf := p.Get().(*[]byte)
			(*buf)[0] = 1
			p.Put(buf)
		}
	})
	b.Run("part:rseq.FreeList", func(b *testing.B) {
		f := newFreeList(b)
		defer f.Close()
		for b.Loop() {
			h, _ := f.Get()
			f.Put(h)
		}
	})
}

// newFreeList returns a FreeList holding bufCount handles, as a
// BufferPool of bufCount buffers has.
func newFreeList(b *testing.B) *rseq.FreeList {
	f, err := rseq.NewFreeList(0)
	if err != nil {
		b.Fatal(err)
	}
	hs := make([]uint32, bufCount)
	for i := range hs {
		hs[i] = uint32(i)
	}
	f.PutShared(hs...)
	return f
}
