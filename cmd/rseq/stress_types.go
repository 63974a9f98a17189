package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/internal/hooks"
)

// maxViolations bounds the messages a run keeps (it counts them all).
const maxViolations = 10

// stressRun is the state shared by one run's goroutines.
type stressRun struct {
	o        stressOpts
	by       rseq.Indexing
	delayAt  map[string]bool
	stop     atomic.Bool
	ops      atomic.Int64
	notOnCPU atomic.Int64
	retries  atomic.Int64
	tids     []atomic.Int32 // per worker: its thread when it last signalled (linux)
	start    time.Time
	progress func(int64, time.Duration)

	mu         sync.Mutex
	violations []string
	count      int
	notes      map[string]int64
}

// note records a count worth reporting (switches made, empty gets).
func (r *stressRun) note(k string, v int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.notes == nil {
		r.notes = map[string]int64{}
	}
	r.notes[k] = v
}

func (r *stressRun) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	if len(r.violations) < maxViolations {
		r.violations = append(r.violations, fmt.Sprintf(format, args...))
	}
}

// worker is one goroutine of a run.
type worker struct {
	r        *stressRun
	id       int
	fb       bool   // on the fallback views
	sink     uint64 // keeps the delay loops from being optimized away
	notOnCPU int64
	retries  int64
	sigSeq   uint64
}

// spin is the delay: n rounds of arithmetic the compiler must keep.
//
//go:noinline
func spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

func (w *worker) delay(point string) {
	if w.r.delayAt[point] {
		w.sink += spin(w.r.o.Delay)
	}
}

// index returns the index of the block the goroutine's thread uses now
// (CPU or concurrency id), for operations with an explicit index. Where
// the id is not available, 0: those PerCPUs take the fallback, which acts
// on any index.
func (w *worker) index(n int) int {
	var c int
	if w.r.by == rseq.ByConcurrencyID {
		c = rseq.ConcurrencyID()
	} else {
		c = rseq.CPU()
	}
	if c < 0 || c >= n {
		return 0
	}
	return c
}

// explicit says whether operation i of the goroutine uses an explicit
// index (odd ones) or Current (even ones).
func explicit(i int) bool { return i%2 == 1 }

// perturb runs after operation i (0-based): yield, signal, sleep.
func (w *worker) perturb(i int) {
	o := &w.r.o
	k := i + 1
	if o.Yield > 0 && k%o.Yield == 0 {
		runtime.Gosched()
	}
	if o.Signal > 0 && k%o.Signal == 0 {
		w.sendSignal()
	}
	if o.Sleep > 0 && k%o.Sleep == 0 {
		time.Sleep(o.SleepFor)
	}
}

// runWorkers runs o.Goroutines goroutines, each calling body for up to
// o.Reps operations, until the run's stop flag is raised. body returns
// whether the operation completed (it may give up when the run stops, or
// find nothing to do); the run's ops count the completed ones. The first
// round(share*goroutines) goroutines (at least one if share > 0) are on
// the fallback views.
func (r *stressRun) runWorkers(body func(w *worker, i int) bool) {
	nfb := int(r.o.FallbackShare*float64(r.o.Goroutines) + 0.5)
	if r.o.FallbackShare > 0 && nfb == 0 {
		nfb = 1
	}
	var wg sync.WaitGroup
	var sink atomic.Uint64
	for g := 0; g < r.o.Goroutines; g++ {
		w := &worker{r: r, id: g, fb: g < nfb}
		wg.Go(func() {
			var n int64
			for i := 0; i < r.o.Reps && !r.stop.Load(); i++ {
				done := body(w, i)
				w.perturb(i)
				if !done {
					continue
				}
				if n++; n == 256 {
					r.ops.Add(n)
					n = 0
					if r.progress != nil {
						r.progress(r.ops.Load(), time.Since(r.start))
					}
				}
			}
			r.ops.Add(n)
			r.notOnCPU.Add(w.notOnCPU)
			r.retries.Add(w.retries)
			sink.Add(w.sink)
		})
	}
	wg.Wait()
	_ = sink.Load()
}

// runOne runs one configuration and checks its invariants.
func runOne(o stressOpts, progress func(int64, time.Duration)) stressResult {
	r := &stressRun{o: o, delayAt: map[string]bool{}, progress: progress, tids: make([]atomic.Int32, o.Goroutines)}
	if o.Index == "cid" {
		r.by = rseq.ByConcurrencyID
	}
	if o.DelayPoints != "" {
		for _, p := range strings.Split(o.DelayPoints, ",") {
			r.delayAt[p] = true
		}
	}
	stopSignals := startSignals(o.Signal > 0)
	abortsBefore := hooks.Aborts()
	r.start = time.Now()
	var timer *time.Timer
	if o.Duration > 0 {
		timer = time.AfterFunc(o.Duration, func() { r.stop.Store(true) })
	}
	var err error
	switch o.Type {
	case "spinlock":
		err = r.spinlock()
	case "list":
		err = r.list()
	case "buffer":
		err = r.buffer()
	case "copy-buffer":
		err = r.copyBuffer()
	case "increment":
		err = r.increment()
	case "fence":
		err = r.fence()
	default:
		err = fmt.Errorf("unknown type %q", o.Type)
	}
	el := time.Since(r.start)
	if timer != nil {
		timer.Stop()
	}
	stopSignals()
	if err != nil {
		r.violate("setup: %v", err)
	}
	return stressResult{
		Type:       o.Type,
		Options:    o,
		Engine:     engineName(),
		Ops:        r.ops.Load(),
		Aborts:     hooks.Aborts() - abortsBefore,
		NotOnCPU:   r.notOnCPU.Load(),
		Retries:    r.retries.Load(),
		Stopped:    r.stop.Load(),
		Violations: r.violations,
		Count:      r.count,
		Notes:      r.notes,
		Seconds:    el.Seconds(),
	}
}

// newSlab returns a slab indexed as the run asks.
func (r *stressRun) newSlab() (*rseq.Slab, error) { return rseq.NewSlab(0, r.by) }

// views returns p and its fallback view.
func views(p *rseq.PerCPU) [2]*rseq.PerCPU { return [2]*rseq.PerCPU{p, fallbackOf(p)} }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sumWord adds the word at off over every block.
func sumWord(p *rseq.PerCPU, off uintptr) uint64 {
	var s uint64
	for i := 0; i < p.Len(); i++ {
		s += p.Load(i, off)
	}
	return s
}

// increment: PerCPU.Add with Current and with an explicit index (read the
// index, delay, add; NotOnCPU retries), and rseq.Counter.Add on the
// goroutines that are not on the fallback. The sums must be exact.
func (r *stressRun) increment() error {
	s, err := r.newSlab()
	if err != nil {
		return err
	}
	defer s.Close()
	ref, err := s.Alloc(1)
	if err != nil {
		return err
	}
	defer s.Free(ref)
	c, err := rseq.NewCounterIn(s)
	if err != nil {
		return err
	}
	defer c.Close()
	p, off := ref.PerCPU(), ref.Off()
	vs := views(p)
	var engineOps atomic.Int64
	r.runWorkers(func(w *worker, i int) bool {
		v := vs[b2i(w.fb)]
		switch {
		case r.o.broken:
			// Deliberately wrong: read, yield, write back the read value
			// plus one. Updates get lost; the check must say so.
			idx := w.index(p.Len())
			old := p.Load(idx, off)
			runtime.Gosched()
			storeWord(p, idx, off, old+1)
		case explicit(i):
			for {
				idx := w.index(p.Len())
				w.delay("index")
				_, _, res := v.Add(idx, off, 1)
				if res == rseq.Committed {
					break
				}
				if res != rseq.NotOnCPU {
					r.violate("Add(%d) answered %v", idx, res)
					return false
				}
				w.notOnCPU++
				if r.stop.Load() {
					return false
				}
			}
		default:
			if _, _, res := v.Add(rseq.Current, off, 1); res != rseq.Committed {
				r.violate("Add(Current) answered %v", res)
				return false
			}
		}
		if !w.fb {
			c.Add(1)
			engineOps.Add(1)
		}
		return true
	})
	ops := uint64(r.ops.Load())
	if got := sumWord(p, off); got != ops {
		r.violate("increment: PerCPU words add up to %d, want %d (%d lost)", got, ops, int64(ops-got))
	}
	if got, want := c.Load(), engineOps.Load(); got != want {
		r.violate("increment: Counter reads %d, want %d", got, want)
	}
	return nil
}

// storeWord overwrites a word of block idx whatever it holds (the broken
// increment's plain store), through the fallback view, which acts on any
// block from anywhere.
func storeWord(p *rseq.PerCPU, idx int, off uintptr, v uint64) {
	f := fallbackOf(p)
	for {
		cur := p.Load(idx, off)
		if _, _, res := f.CompareAndSwap(idx, off, cur, v); res == rseq.Committed {
			return
		}
	}
}

// spinlock: Locks (or its fallback view) protects a plain counter per
// lock index; an occupancy count per index catches two holders at once.
//
// The occupancy count is atomic on purpose. Locks.Unlock releases with an
// atomic compare-and-swap on off-heap (mmap'd) memory, which the race
// detector does not see (it models atomics only on Go memory), so under
// -race a plain counter protected by nothing else is reported as a data
// race although the lock excludes (the hardware CAS is a full barrier).
// The occupancy count's atomics on Go memory give the detector the edge
// from one holder to the next.
func (r *stressRun) spinlock() error {
	s, err := r.newSlab()
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := rseq.NewLocksIn(s)
	if err != nil {
		return err
	}
	defer l.Close()
	ls := [2]*rseq.Locks{l, fallbackOf(l)}
	type shard struct {
		inside atomic.Int32
		n      uint64
		_      [48]byte
	}
	data := make([]shard, l.Len())
	r.runWorkers(func(w *worker, i int) bool {
		lk := ls[b2i(w.fb)]
		at := lk.Lock()
		d := &data[at]
		if k := d.inside.Add(1); k != 1 {
			r.violate("spinlock: lock %d has %d holders at once", at, k)
		}
		v := d.n // plain: the lock is the only protection
		w.delay("lock")
		d.n = v + 1
		d.inside.Add(-1)
		ls[(i+w.id)%2].Unlock(at) // release through either view
		return true
	})
	var sum uint64
	for i := range data {
		sum += data[i].n
	}
	if ops := uint64(r.ops.Load()); sum != ops {
		r.violate("spinlock: counters add up to %d, want %d locks taken", sum, ops)
	}
	return nil
}

// handles is the ownership table of the list and buffer tests: a handle
// is marked while a goroutine holds it.
type handles []atomic.Uint32

func (h handles) take(r *stressRun, what string, v uint64) bool {
	if v >= uint64(len(h)) {
		r.violate("%s: got handle %d, outside [0, %d)", what, v, len(h))
		return false
	}
	if !h[v].CompareAndSwap(0, 1) {
		r.violate("%s: handle %d handed out while held by another goroutine", what, v)
		return false
	}
	return true
}

func (h handles) give(v uint64) { h[v].Store(0) }

// checkOnce checks that the collected handles are each of [0, n) once.
func (r *stressRun) checkOnce(what string, got []uint64, n int) {
	seen := make([]int, n)
	for _, v := range got {
		if v >= uint64(n) {
			r.violate("%s: collected handle %d, outside [0, %d)", what, v, n)
			continue
		}
		seen[v]++
	}
	for v, c := range seen {
		if c != 1 {
			r.violate("%s: handle %d collected %d times, want once", what, v, c)
		}
	}
}

// list: FreeList (or its fallback view) Get, hold, Put.
func (r *stressRun) list() error {
	n := max(256, 4*r.o.Goroutines)
	f, err := rseq.NewFreeList(0)
	if err != nil {
		return err
	}
	defer f.Close()
	fs := [2]*rseq.FreeList{f, fallbackOf(f)}
	for h := 0; h < n; h++ {
		fs[h%2].PutShared(uint32(h))
	}
	own := make(handles, n)
	var empty atomic.Int64
	r.runWorkers(func(w *worker, i int) bool {
		fl := fs[b2i(w.fb)]
		h, ok := fl.Get()
		if !ok {
			// Possible while the other view's overflow stack holds
			// the free handles; not a violation.
			empty.Add(1)
			return false
		}
		if !own.take(r, "list", uint64(h)) {
			return false
		}
		w.delay("pair")
		own.give(uint64(h))
		fl.Put(h)
		return true
	})
	var got []uint64
	for _, fl := range [...]*rseq.FreeList{f, fs[1], f} {
		for {
			h, ok := fl.Get()
			if !ok {
				break
			}
			got = append(got, uint64(h))
		}
	}
	r.checkOnce("list", got, n)
	r.note("empty_gets", empty.Load())
	return nil
}

// buffer: per-CPU LIFO arrays of handles, Pop then Push, with Current or
// an explicit index. Every array can hold every handle, so a Push never
// finds one full.
func (r *stressRun) buffer() error {
	const n = 128 // handles, and each array's capacity
	s, err := r.newSlab()
	if err != nil {
		return err
	}
	defer s.Close()
	ref, err := s.Alloc(1 + n)
	if err != nil {
		return err
	}
	defer s.Free(ref)
	p, countOff := ref.PerCPU(), ref.Off()
	arrOff := countOff + 8
	vs := views(p)
	for h := 0; h < n; h++ {
		if _, _, res := vs[1].Push(h%p.Len(), countOff, arrOff, n, uint64(h)); res != rseq.Committed {
			return fmt.Errorf("filling block %d: %v", h%p.Len(), res)
		}
	}
	own := make(handles, n)
	// op runs Pop or Push with Current or, for explicit, the index read
	// before a delay, retrying on NotOnCPU.
	op := func(w *worker, v *rseq.PerCPU, expl bool, push bool, h uint64) (uint64, rseq.Result) {
		for {
			idx := rseq.Current
			if expl {
				idx = w.index(p.Len())
				w.delay("index")
			}
			var res rseq.Result
			var got uint64
			if push {
				_, _, res = v.Push(idx, countOff, arrOff, n, h)
			} else {
				got, _, res = v.Pop(idx, countOff, arrOff, n)
			}
			if res != rseq.NotOnCPU {
				return got, res
			}
			w.notOnCPU++
		}
	}
	r.runWorkers(func(w *worker, i int) bool {
		v := vs[b2i(w.fb)]
		h, res := op(w, v, explicit(i), false, 0)
		if res != rseq.Committed {
			w.retries++ // this CPU's array is empty
			return false
		}
		if !own.take(r, "buffer", h) {
			return false
		}
		w.delay("pair")
		own.give(h)
		if _, res := op(w, v, explicit(i/2), true, h); res != rseq.Committed {
			r.violate("buffer: Push of handle %d answered %v with %d handles in all", h, res, n)
			return false
		}
		return true
	})
	var got []uint64
	for i := 0; i < p.Len(); i++ {
		if c := p.Load(i, countOff); c > n {
			r.violate("buffer: block %d counts %d handles, capacity %d", i, c, n)
			continue
		}
		for {
			h, _, res := vs[1].Pop(i, countOff, arrOff, n)
			if res != rseq.Committed {
				break
			}
			got = append(got, h)
		}
	}
	r.checkOnce("buffer", got, n)
	return nil
}

// Records of the copy-buffer test: 64 bytes, 8 per CPU's log.
const (
	recSize  = 64
	recSlots = 8
)

func fillRecord(b []byte, seq, writer uint64) {
	binary.LittleEndian.PutUint64(b[0:], seq)
	binary.LittleEndian.PutUint64(b[8:], writer)
	for i := 16; i < len(b)-4; i++ {
		b[i] = byte(seq*31 + writer*7 + uint64(i))
	}
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
}

func checkRecord(b []byte) (seq uint64, ok bool) {
	ok = binary.LittleEndian.Uint32(b[len(b)-4:]) == crc32.ChecksumIEEE(b[:len(b)-4])
	return binary.LittleEndian.Uint64(b), ok
}

// copyBuffer: read the log's sequence, build the record, CopyAndStore it
// into slot seq%8 committing seq+1 (Current or the explicit index read
// before the delay; a failed compare or NotOnCPU starts over). At the end
// every CPU's last records must be whole and in sequence, and the
// sequences must add up to the commits.
func (r *stressRun) copyBuffer() error {
	s, err := r.newSlab()
	if err != nil {
		return err
	}
	defer s.Close()
	ref, err := s.Alloc(1 + recSize*recSlots/8)
	if err != nil {
		return err
	}
	defer s.Free(ref)
	p, seqOff := ref.PerCPU(), ref.Off()
	recOff := seqOff + 8
	vs := views(p)
	r.runWorkers(func(w *worker, i int) bool {
		v := vs[b2i(w.fb)]
		var buf [recSize]byte
		idx := w.index(p.Len())
		seq := p.Load(idx, seqOff)
		for {
			fillRecord(buf[:], seq, uint64(w.id))
			arg := rseq.Current
			if explicit(i) {
				w.delay("index")
				arg = idx
			}
			seen, at, res := v.CopyAndStore(arg, seqOff, seq, recOff+uintptr(seq%recSlots)*recSize, buf[:], seq+1)
			switch res {
			case rseq.Committed:
				return true
			case rseq.NotOnCPU:
				w.notOnCPU++
				idx = w.index(p.Len())
				seq = p.Load(idx, seqOff)
			default:
				// Another commit came first, or (Current) the operation
				// ran on another block: try again with what it found.
				w.retries++
				idx, seq = at, seen
			}
			if r.stop.Load() {
				return false
			}
		}
	})
	// The slot of record seq (which held record seq-recSlots) is the one
	// the next copy targets: a section interrupted after its compare may
	// have left part of record seq there without committing, as
	// CopyAndStore documents. The other recSlots-1 slots hold the last
	// records, and each must be whole.
	var total uint64
	var b [recSize]byte
	for i := 0; i < p.Len(); i++ {
		seq := p.Load(i, seqOff)
		total += seq
		for q := seq - min(seq, recSlots-1); q < seq; q++ {
			at := recOff + uintptr(q%recSlots)*recSize
			for k := 0; k < recSize; k += 8 {
				binary.NativeEndian.PutUint64(b[k:], p.Load(i, at+uintptr(k)))
			}
			if got, ok := checkRecord(b[:]); !ok || got != q {
				r.violate("copy-buffer: block %d, record %d: checksum ok=%v, sequence %d", i, q, ok, got)
			}
		}
	}
	if ops := uint64(r.ops.Load()); total != ops {
		r.violate("copy-buffer: sequences add up to %d, want %d commits", total, ops)
	}
	return nil
}

// fence: two per-CPU counter sets; workers add to the one the shared word
// active names, with the add guarded by that word. A manager switches the
// word, calls FenceAll, and then the old set must not change.
func (r *stressRun) fence() error {
	s, err := r.newSlab()
	if err != nil {
		return err
	}
	defer s.Close()
	ref, err := s.Alloc(2)
	if err != nil {
		return err
	}
	defer s.Free(ref)
	p := ref.PerCPU()
	offs := [2]uintptr{ref.Off(), ref.Off() + 8}
	vs := views(p)
	active := new(uint64) // the guard: 0 or 1
	var commits [2]atomic.Int64
	var swaps atomic.Int64
	done := make(chan struct{})
	managerDone := make(chan struct{})
	go func() {
		defer close(managerDone)
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			old := atomic.LoadUint64(active)
			atomic.StoreUint64(active, 1-old)
			rseq.FenceAll()
			a := sumWord(p, offs[old])
			time.Sleep(time.Millisecond)
			if b := sumWord(p, offs[old]); a != b {
				r.violate("fence: set %d changed from %d to %d after the switch and FenceAll (switch %d)", old, a, b, swaps.Load()+1)
			}
			swaps.Add(1)
		}
	}()
	r.runWorkers(func(w *worker, i int) bool {
		v := vs[b2i(w.fb)]
		idx := w.index(p.Len())
		set := atomic.LoadUint64(active)
		old := p.Load(idx, offs[set])
		for {
			arg := rseq.Current
			if explicit(i) {
				w.delay("index")
				arg = idx
			}
			seen, at, res := v.CompareAndSwapGuarded(arg, offs[set], old, old+1, active, set)
			switch {
			case res == rseq.Committed:
				commits[set].Add(1)
				return true
			case res == rseq.NotOnCPU:
				w.notOnCPU++
				idx = w.index(p.Len())
				old = p.Load(idx, offs[set])
			case atomic.LoadUint64(active) != set:
				// The manager switched sets: start over on the new one.
				w.retries++
				set = atomic.LoadUint64(active)
				idx = w.index(p.Len())
				old = p.Load(idx, offs[set])
			default:
				// Another add came first, or (Current) the operation
				// ran on another block: try again with what it found.
				w.retries++
				idx, old = at, seen
			}
			if r.stop.Load() {
				return false
			}
		}
	})
	close(done)
	<-managerDone
	for k := range offs {
		if got, want := sumWord(p, offs[k]), uint64(commits[k].Load()); got != want {
			r.violate("fence: set %d adds up to %d, want %d commits", k, got, want)
		}
	}
	r.note("switches", swaps.Load())
	return nil
}
