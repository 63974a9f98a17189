package main

import (
	"fmt"
	"unsafe"

	"github.com/gorseq/rseq"
)

// The memcpy workload: param_test's per-CPU arrays of 16-byte records
// (two words), a pop copying the top record out and a push copying it
// back in.
//
// The push is one critical section, as in C: PerCPU.CopyAndStore copies the
// record into the free slot above the top and commits the new count. The
// package has no section that copies out of per-CPU memory, so the pop
// reads the top record first and then commits the smaller count with
// PerCPU.CompareAndSwap on the same block, expecting the word it read the
// count from. The word carries a version that every commit (push or pop)
// increments, so the compare holds only if nothing was pushed or popped on
// that block since the read, and the record read is the one removed (a
// seqlock, validated by the commit). The C pop does the same work in one
// section: one load of the count, the copy, one store.

const (
	memRecSize = 16        // bytes per record, as param_test's two intptr_t
	memCount   = 1<<32 - 1 // the state word's count bits
	memVersion = 1 << 32   // one commit, in the state word's version bits
)

// memMix is a record's second word, a function of its first: a record
// whose words do not match was torn or corrupted.
func memMix(id uint64) uint64 { return id*0x9e3779b97f4a7c15 ^ 0x5bd1e9955bd1e995 }

// memBuf is the per-CPU arrays: in each block, a state word (count, and a
// version above it) and room for every record.
type memBuf struct {
	p     *rseq.PerCPU
	off   uintptr // the state word
	recs  uintptr // slot 0
	cap   uint64
	total int
}

func (m *memBuf) slot(c uint64) uintptr { return m.recs + uintptr(c)*memRecSize }

// index returns the block of the CPU the caller runs on, a goroutine's
// first hint (any block where the CPU cannot be read).
func (m *memBuf) index() int {
	if c := rseq.CPU(); uint(c) < uint(m.p.Len()) {
		return c
	}
	return 0
}

// The hot loop carries a guess of the state from one operation to the
// next: the block the last one used and the word its commit stored. An
// operation expects that word instead of loading it first (a call: the
// package's Load is not inlined); a wrong guess costs a failed compare,
// which returns the word found, or NotOnCPU, which returns the CPU the
// caller is on.

// pop copies the top record of the caller's CPU's array into rec and
// removes it, starting from the guess (cpu, w). It returns the block it
// used and the word there after it, and false if that array was empty.
func (m *memBuf) pop(rec *[2]uint64, cpu int, w uint64) (int, uint64, bool) {
	for {
		c := w & memCount
		var seen uint64
		var id int
		var r rseq.Result
		if c == 0 {
			// Empty, if the caller is on that CPU and the guess is right:
			// a compare that stores what is there says whether both hold.
			if seen, id, r = m.p.CompareAndSwap(cpu, m.off, w, w); r == rseq.Committed {
				return cpu, w, false
			}
		} else {
			if c > m.cap {
				panic(fmt.Sprintf("bench memcpy: block %d counts %d records, room for %d", cpu, c, m.cap))
			}
			at := m.slot(c - 1)
			optimisticReadBegin()
			rec[0] = m.p.Load(cpu, at)
			rec[1] = m.p.Load(cpu, at+8)
			optimisticReadEnd()
			nw := w - 1 + memVersion
			if seen, id, r = m.p.CompareAndSwap(cpu, m.off, w, nw); r == rseq.Committed {
				return cpu, nw, true
			}
		}
		if r == rseq.NotOnCPU { // moved: use the CPU it runs on now
			if uint(id) >= uint(m.p.Len()) {
				id = m.index()
			}
			cpu, w = id, m.p.Load(id, m.off)
		} else {
			w = seen // Failed: another push or pop came first
		}
	}
}

// push copies rec onto the top of the caller's CPU's array, starting from
// the guess (cpu, w). It returns the block it used and the word there
// after it, and false if that array is full (it never is: there is room
// for every record).
func (m *memBuf) push(rec []byte, cpu int, w uint64) (int, uint64, bool) {
	for {
		c := w & memCount
		if c >= m.cap {
			if now := m.p.Load(cpu, m.off); now != w {
				w = now
				continue
			}
			return cpu, w, false
		}
		// With Current the section runs on whichever CPU the caller is on
		// and compares that block's word: if it holds w, slot c is that
		// block's free slot too.
		nw := w + 1 + memVersion
		seen, at, r := m.p.CopyAndStore(rseq.Current, m.off, w, m.slot(c), rec, nw)
		if r == rseq.Committed {
			return at, nw, true
		}
		cpu, w = at, seen // that block's state: try again with it
	}
}

// fill puts records into block blk through the fallback view (any block,
// from anywhere).
func (m *memBuf) fill(blk int, ids []uint64) error {
	fb := fallbackOf(m.p)
	for _, id := range ids {
		rec := [2]uint64{id, memMix(id)}
		w := m.p.Load(blk, m.off)
		c := w & memCount
		b := unsafe.Slice((*byte)(unsafe.Pointer(&rec[0])), memRecSize)
		if _, _, r := fb.CopyAndStore(blk, m.off, w, m.slot(c), b, w+1+memVersion); r != rseq.Committed {
			return fmt.Errorf("filling block %d: %v", blk, r)
		}
	}
	return nil
}

// check reads every block (no goroutine running): counts within the
// arrays, every record intact, every id there once.
func (m *memBuf) check() error {
	var got []uint64
	for blk := 0; blk < m.p.Len(); blk++ {
		c := m.p.Load(blk, m.off) & memCount
		if c > m.cap {
			return fmt.Errorf("block %d counts %d records, room for %d", blk, c, m.cap)
		}
		for k := uint64(0); k < c; k++ {
			id, mix := m.p.Load(blk, m.slot(k)), m.p.Load(blk, m.slot(k)+8)
			if mix != memMix(id) {
				return fmt.Errorf("block %d, record %d: words %#x %#x do not match (torn or corrupted copy)", blk, k, id, mix)
			}
			got = append(got, id)
		}
	}
	return onceEach("record", got, m.total)
}

func memRseq(o workOpts) (*workInstance, error) {
	n := rseq.PossibleCPUs()
	per := itemsPer(n)
	total := per * n
	s, err := rseq.NewSlab(roundUp64(8+uintptr(total)*memRecSize), rseq.ByCPU)
	if err != nil {
		return nil, err
	}
	ref, err := s.Alloc(1 + total*memRecSize/8)
	if err != nil {
		s.Close()
		return nil, err
	}
	m := &memBuf{p: ref.PerCPU(), off: ref.Off(), recs: ref.Off() + 8, cap: uint64(total), total: total}
	ids := make([]uint64, per)
	for blk := 0; blk < n; blk++ {
		for j := range ids {
			ids[j] = uint64(blk*per + j)
		}
		if err := m.fill(blk, ids); err != nil {
			s.Close()
			return nil, err
		}
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			rec := new([2]uint64) // the goroutine's copy, outside per-CPU memory
			b := unsafe.Slice((*byte)(unsafe.Pointer(&rec[0])), memRecSize)
			var empty int64
			cpu := m.index()
			w := m.p.Load(cpu, m.off)
			for i := 0; i < reps; i++ {
				var ok bool
				if cpu, w, ok = m.pop(rec, cpu, w); !ok {
					empty++
					continue
				}
				// Cannot be full; a lost record fails the check.
				cpu, w, _ = m.push(b, cpu, w)
			}
			return empty
		},
		check: func(int) error { return m.check() },
		fault: func() { // a record corrupted on its way
			rec := new([2]uint64)
			cpu := m.index()
			if cpu, w, ok := m.pop(rec, cpu, m.p.Load(cpu, m.off)); ok {
				rec[1] ^= 1
				m.push(unsafe.Slice((*byte)(unsafe.Pointer(&rec[0])), memRecSize), cpu, w)
			}
		},
		close: func() { s.Close() },
	}, nil
}

func memGo(o workOpts) (*workInstance, error) {
	n := rseq.PossibleCPUs()
	total := itemsPer(n) * n
	ch := make(chan [2]uint64, total)
	for id := uint64(0); id < uint64(total); id++ {
		ch <- [2]uint64{id, memMix(id)}
	}
	return &workInstance{
		loop: func(_, reps int) int64 {
			for i := 0; i < reps; i++ {
				rec := <-ch
				ch <- rec
			}
			return 0
		},
		check: func(int) error {
			recs := make([][2]uint64, 0, total)
			for len(ch) > 0 {
				recs = append(recs, <-ch)
			}
			got := make([]uint64, len(recs))
			var bad error
			for i, rec := range recs {
				ch <- rec
				got[i] = rec[0]
				if rec[1] != memMix(rec[0]) && bad == nil {
					bad = fmt.Errorf("record %d: words %#x %#x do not match (corrupted copy)", i, rec[0], rec[1])
				}
			}
			if bad != nil {
				return bad
			}
			return onceEach("record", got, total)
		},
		fault: func() { // a record corrupted on its way
			rec := <-ch
			rec[1] ^= 1
			ch <- rec
		},
		close: func() {},
	}, nil
}
