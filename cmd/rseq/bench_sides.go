package main

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gorseq/rseq"
)

// The sides of increment, spinlock, list and buffer (memcpy: bench_memcpy.go).

// Items of list, buffer and memcpy: param_test puts 100 on each CPU and
// sizes each CPU's array for all of them. Beyond maxItems in all, fewer per
// CPU, so that the arrays stay small on machines with many possible CPUs.
const (
	itemsPerCPU = 100
	maxItems    = 4096
)

// itemsPer returns the items each of n blocks starts with.
func itemsPer(n int) int { return max(1, min(itemsPerCPU, maxItems/n)) }

// roundUp64 rounds n up to a multiple of 64 (a cache line).
func roundUp64(n uintptr) uintptr { return (n + 63) &^ 63 }

// --- increment ---

func incRseq(o workOpts) (*workInstance, error) {
	s, err := rseq.NewSlab(0, rseq.ByCPU)
	if err != nil {
		return nil, err
	}
	ref, err := s.Alloc(1)
	if err != nil {
		s.Close()
		return nil, err
	}
	p, off := ref.PerCPU(), ref.Off()
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				p.Add(rseq.Current, off, 1) // with Current it always commits
			}
			return 0
		},
		check: func(rounds int) error {
			var sum int64
			for i := 0; i < p.Len(); i++ {
				sum += int64(p.Load(i, off))
			}
			return countCheck("sum of the per-CPU words", sum, o, rounds)
		},
		fault: func() { p.Add(rseq.Current, off, -1) },
		close: func() { s.Close() },
	}, nil
}

func incGo(o workOpts) (*workInstance, error) {
	n := new(atomic.Int64)
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				n.Add(1)
			}
			return 0
		},
		check: func(rounds int) error { return countCheck("shared counter", n.Load(), o, rounds) },
		fault: func() { n.Add(-1) },
		close: func() {},
	}, nil
}

// --- spinlock ---

// lockedCount is a counter a lock protects, alone on its cache line.
type lockedCount struct {
	n int64
	_ [56]byte
}

func lockRseq(o workOpts) (*workInstance, error) {
	s, err := rseq.NewSlab(0, rseq.ByCPU)
	if err != nil {
		return nil, err
	}
	l, err := rseq.NewLocksIn(s)
	if err != nil {
		s.Close()
		return nil, err
	}
	counts := make([]lockedCount, l.Len())
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				k := l.Lock()
				counts[k].n++ // plain: the lock is the only protection
				l.Unlock(k)
			}
			return 0
		},
		check: func(rounds int) error {
			var sum int64
			for i := range counts {
				sum += counts[i].n
			}
			return countCheck("sum of the per-lock counters", sum, o, rounds)
		},
		fault: func() { counts[0].n-- },
		close: func() { l.Close(); s.Close() },
	}, nil
}

func lockGo(o workOpts) (*workInstance, error) {
	var c struct {
		mu sync.Mutex
		n  int64
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				c.mu.Lock()
				c.n++
				c.mu.Unlock()
			}
			return 0
		},
		check: func(rounds int) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			return countCheck("counter", c.n, o, rounds)
		},
		fault: func() { c.mu.Lock(); c.n--; c.mu.Unlock() },
		close: func() {},
	}, nil
}

// --- list ---

func listRseq(o workOpts) (*workInstance, error) {
	f, err := rseq.NewFreeList(0)
	if err != nil {
		return nil, err
	}
	n := rseq.PossibleCPUs()
	total := itemsPer(n) * n
	fill := func() {
		hs := make([]uint32, total)
		for i := range hs {
			hs[i] = uint32(i)
		}
		f.PutShared(hs...)
	}
	fill()
	return &workInstance{
		loop: func(_, reps int) int64 {
			var empty int64
			for i := 0; i < reps; i++ {
				h, ok := f.Get()
				if !ok {
					empty++
					continue
				}
				f.Put(h)
			}
			return empty
		},
		check: func(int) error {
			// Take every handle out (Get reaches other CPUs' caches when
			// the shared stack is empty), then give them all back.
			var got []uint64
			for {
				h, ok := f.Get()
				if !ok {
					break
				}
				got = append(got, uint64(h))
			}
			if err := onceEach("handle", got, total); err != nil {
				return err
			}
			fill()
			return nil
		},
		fault: func() { f.Get() }, // a handle taken and never put back
		close: f.Close,
	}, nil
}

// poolNode is what the sync.Pool side hands around.
type poolNode struct{ data int64 }

func listGo(o workOpts) (*workInstance, error) {
	var pool sync.Pool
	n := rseq.PossibleCPUs()
	for i := itemsPer(n) * n; i > 0; i-- {
		pool.Put(&poolNode{data: int64(i)})
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			var allocs int64
			for i := 0; i < reps; i++ {
				x, _ := pool.Get().(*poolNode)
				if x == nil {
					x = new(poolNode) // what New would do
					allocs++
				}
				pool.Put(x)
			}
			return allocs
		},
		// sync.Pool may drop items at any garbage collection: there is
		// nothing to conserve.
		check: func(int) error { return nil },
		close: func() {},
	}, nil
}

// --- buffer ---

func bufRseq(o workOpts) (*workInstance, error) {
	n := rseq.PossibleCPUs()
	per := itemsPer(n)
	total := per * n
	s, err := rseq.NewSlab(roundUp64(uintptr(1+total)*8), rseq.ByCPU)
	if err != nil {
		return nil, err
	}
	ref, err := s.Alloc(1 + total)
	if err != nil {
		s.Close()
		return nil, err
	}
	// In each block: a count word, then an array with room for every
	// handle.
	p, countOff, arrOff := ref.PerCPU(), ref.Off(), ref.Off()+8
	// Fill each block through the fallback view, which acts on any block
	// from anywhere (at a fence per push, setup only).
	fb := fallbackOf(p)
	for blk := 0; blk < p.Len(); blk++ {
		for j := 0; j < per; j++ {
			if _, _, r := fb.Push(blk, countOff, arrOff, total, uint64(blk*per+j)); r != rseq.Committed {
				s.Close()
				return nil, fmt.Errorf("filling block %d: %v", blk, r)
			}
		}
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			var empty int64
			for i := 0; i < reps; i++ {
				h, _, r := p.Pop(rseq.Current, countOff, arrOff, total)
				if r != rseq.Committed {
					empty++
					continue
				}
				// Room for every handle: a Push cannot find it full (if
				// it did, the handle would be lost and the check say so).
				p.Push(rseq.Current, countOff, arrOff, total, h)
			}
			return empty
		},
		check: func(int) error {
			var got []uint64
			for blk := 0; blk < p.Len(); blk++ {
				c := p.Load(blk, countOff)
				if c > uint64(total) {
					return fmt.Errorf("block %d counts %d handles, room for %d", blk, c, total)
				}
				for k := uint64(0); k < c; k++ {
					got = append(got, p.Load(blk, arrOff+uintptr(k)*8))
				}
			}
			return onceEach("handle", got, total)
		},
		fault: func() { // a handle pushed twice
			if h, _, r := p.Pop(rseq.Current, countOff, arrOff, total); r == rseq.Committed {
				p.Push(rseq.Current, countOff, arrOff, total, h)
				p.Push(rseq.Current, countOff, arrOff, total, h)
			}
		},
		close: func() { s.Close() },
	}, nil
}

func bufGo(o workOpts) (*workInstance, error) {
	n := rseq.PossibleCPUs()
	total := itemsPer(n) * n
	ch := make(chan uint32, total)
	for h := 0; h < total; h++ {
		ch <- uint32(h)
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				h := <-ch
				ch <- h
			}
			return 0
		},
		check: func(int) error {
			got := make([]uint64, 0, total)
			for len(ch) > 0 {
				got = append(got, uint64(<-ch))
			}
			for _, h := range got {
				ch <- uint32(h)
			}
			return onceEach("handle", got, total)
		},
		fault: func() { <-ch }, // a handle received and never sent back
		close: func() {},
	}, nil
}
