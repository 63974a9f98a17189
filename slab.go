package rseq

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultSlabStride is the size of one CPU's block in a slab made with
// stride 0 (except where blocks are placed on NUMA nodes: see NewSlab): 63
// cache lines. It is an odd number of cache lines on purpose:
// blocks stay cache-line aligned, but consecutive CPUs' blocks do not land
// on the same cache set (as page-sized strides do) nor on the same lock of
// the fallback's lock table, which is indexed by cache line.
const DefaultSlabStride = 63 * 64

// MaxSlabStride is the largest block a slab accepts.
const MaxSlabStride = 1 << 20

// ErrSlabClosed is returned by allocations from a closed Slab.
var ErrSlabClosed = errors.New("rseq: slab is closed")

// Slab is per-CPU memory, as the kernel's percpu allocator lays it out: one
// block of Stride bytes per possible CPU (PossibleCPUs), outside the Go heap
// (mmap where the OS has it), and many small objects packed into each block.
// An object of k 8-byte words gets one offset that is valid in every block,
// so a per-CPU counter costs 8 bytes per possible CPU, and one CPU's words
// of many objects share that CPU's cache lines instead of each object
// padding a cache line per CPU.
//
// A Slab grows by chaining chunks of the same stride; each chunk has its
// own PerCPU, which a Ref names. Objects never span chunks, so an object is
// at most Stride/8 words. Alloc costs the same however many chunks the
// slab has (it looks only at chunks that can hold the object, see
// slabClass), and a chunk whose objects have all been freed is unmapped,
// except one kept for the next Alloc.
//
// On a machine with several NUMA nodes, each CPU's block of a slab indexed
// ByCPU with a page-multiple stride is allocated on that CPU's node (see
// NewSlab and SlabStats.Placed).
//
// The memory holds no Go pointers and is zero when allocated. All methods
// are safe for concurrent use.
type Slab struct {
	by     Indexing
	stride uintptr
	n      int  // blocks per chunk: PossibleCPUs
	place  bool // bind each block to its CPU's node (slabLayout)

	mu     sync.Mutex
	chunks []*slabChunk // every mapped chunk; chunks[c.at] == c
	// avail lists the chunks with free words by class of their bound
	// (slabClass); availBits has bit k set when avail[k] is not empty.
	avail     [slabClasses][]*slabChunk
	availBits [slabClasses / 64]uint64
	spare     *slabChunk // a mapped chunk without objects, if any (at most one)
	closed    bool
	probes    int // chunks Alloc looked into (a test checks it stays O(1) per Alloc)
}

// slabChunk is one mapping of n blocks and the allocation state of its
// words (shared by every block: word w is allocated in all of them or in
// none).
type slabChunk struct {
	slab   *Slab
	mem    slabMem
	pc     *PerCPU
	used   []uint64 // bit w: word w is allocated
	size   []uint32 // size[w]: words of the object that starts at word w, else 0
	free   int      // free words
	objs   int      // live objects
	placed int      // blocks bound to their CPU's node
	// placeErr is the first error of mbind on this chunk, if any.
	placeErr error

	at    int // index in slab.chunks; -1 once unmapped
	bound int // no object of more than bound words fits (0: full)
	class int // the avail list it is on (slabClass(bound)), -1 if none
	slot  int // its index in that list
}

// slabChunkSeq spreads the chunks' bases over a page, so that the first
// blocks of different chunks do not alias either.
var slabChunkSeq atomic.Uint32

// NewSlab returns an empty slab whose blocks are stride bytes (a multiple
// of 8 up to MaxSlabStride, or 0 for the default) and whose PerCPUs index
// blocks by the given Indexing. Memory is mapped on the first Alloc.
//
// NUMA: on a Linux machine with more than one online node, a slab indexed
// ByCPU whose stride is a multiple of the page size has each block
// allocated on its CPU's node (mbind MPOL_PREFERRED, best effort), and
// stride 0 there means one page, so that the default slab is placed. Else
// stride 0 means DefaultSlabStride and no block is placed: on single-node
// machines, for strides that are not a page multiple, for ByConcurrencyID
// (a concurrency id is not tied to a CPU, so not to a node), in race builds
// and on other OSes (slab memory there is Go heap, left where the runtime
// puts it).
func NewSlab(stride uintptr, by Indexing) (*Slab, error) {
	return newSlab(stride, by, numaNodes())
}

// numaNodes is the number of online nodes where slab memory is mmap'd, 0
// where placement cannot apply (not read then).
func numaNodes() int {
	if !slabMapped {
		return 0
	}
	return numaTopo().nodes
}

// newSlab is NewSlab on a machine of the given number of nodes.
func newSlab(stride uintptr, by Indexing, nodes int) (*Slab, error) {
	stride, place := slabLayout(stride, by, nodes, pageSize, slabMapped)
	switch {
	case stride%8 != 0 || stride > MaxSlabStride:
		return nil, fmt.Errorf("rseq: NewSlab: stride %d is not a multiple of 8 up to %d", stride, MaxSlabStride)
	case by != ByCPU && by != ByConcurrencyID:
		return nil, fmt.Errorf("rseq: NewSlab: unknown index %d", int(by))
	}
	n := PossibleCPUs()
	if n < 1 {
		n = 1
	}
	return &Slab{by: by, stride: stride, n: n, place: place}, nil
}

// Stride returns the size of one block in bytes.
func (s *Slab) Stride() uintptr { return s.stride }

// By returns how the slab's PerCPUs pick a block.
func (s *Slab) By() Indexing { return s.by }

// Len returns the number of blocks of each chunk (PossibleCPUs at creation).
func (s *Slab) Len() int { return s.n }

// Ref names an object allocated from a Slab: Words() 8-byte words at offset
// Off() of every block of PerCPU(). The zero Ref names nothing.
type Ref struct {
	chunk *slabChunk
	off   uintptr
	words int
}

// PerCPU returns the engine's view of the memory the object lives in; pass
// it Off() (plus 8 per word) as the offset.
func (r Ref) PerCPU() *PerCPU {
	if r.chunk == nil {
		return nil
	}
	return r.chunk.pc
}

// Off returns the object's offset inside every block.
func (r Ref) Off() uintptr { return r.off }

// Words returns the object's size in 8-byte words.
func (r Ref) Words() int { return r.words }

// IsZero reports whether r names no object.
func (r Ref) IsZero() bool { return r.chunk == nil }

// word returns the address of word k of the object in block cpu. Any
// goroutine may access it with atomic operations.
func (r Ref) word(cpu, k int) *uint64 {
	return (*uint64)(unsafe.Add(r.chunk.mem.base, uintptr(cpu)*r.chunk.slab.stride+r.off+uintptr(k)*8))
}

// Alloc returns a fresh object of words 8-byte words, zero in every block.
// Objects of up to 8 words are aligned to their size rounded up to a power
// of two, so they never straddle a cache line; larger ones to 64 bytes.
func (s *Slab) Alloc(words int) (Ref, error) {
	if words < 1 || uintptr(words) > s.stride/8 {
		return Ref{}, fmt.Errorf("rseq: Slab.Alloc: %d words (want 1 to %d)", words, s.stride/8)
	}
	align := slabAlign(words)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Ref{}, ErrSlabClosed
	}
	// Look only at chunks whose bound says the object may fit: the
	// fullest first. A chunk where it does not fit after all gets its
	// exact bound, below words, and leaves the lists searched here; so
	// every failed look is paid for by an earlier Alloc or Free that
	// loosened that chunk's bound.
	for {
		k := s.firstAvail(slabClassAtLeast(words))
		if k < 0 {
			break
		}
		l := s.avail[k]
		c := l[len(l)-1]
		s.probes++
		if w := c.find(words, align); w >= 0 {
			return s.take(c, w, words), nil
		}
		c.bound = c.maxFit()
		s.relist(c)
	}
	c, err := s.newChunk()
	if err != nil {
		return Ref{}, err
	}
	c.at = len(s.chunks)
	s.chunks = append(s.chunks, c)
	return s.take(c, 0, words), nil
}

// slabAlign is the alignment, in words, of an object of k words: k rounded
// up to a power of two, at most 8 (a cache line). It never decreases as k
// grows, and is a power of two: so an object of k words fits wherever one
// of more words does (slabChunk.maxFit relies on it).
func slabAlign(k int) int {
	if k >= 8 {
		return 8
	}
	return 1 << bits.Len(uint(k-1))
}

// Chunks are listed by class of their bound: one class per bound below 16
// words, then 8 classes per power of two (the bound's top 4 bits). A
// request of k words searches the classes whose every bound is at least k,
// found with one scan of availBits. For k of 16 words or more that skips
// the chunks of k's own class if k is above the class's smallest bound
// (they may or may not hold k): the object goes to a chunk of a higher
// class or a new chunk, and the skipped room (less than an eighth of the
// bound) serves smaller objects. Below 16 words nothing is skipped.
const slabClasses = 128

// slabClass is the class of bound v >= 1 (up to MaxSlabStride/8 = 1<<17).
func slabClass(v int) int {
	if v < 16 {
		return v
	}
	e := bits.Len(uint(v)) - 1 // 4..17
	return 16 + (e-4)*8 + (v>>(e-3))&7
}

// slabClassAtLeast is the lowest class whose every bound is at least k.
func slabClassAtLeast(k int) int {
	c := slabClass(k)
	if k >= 16 && k&(1<<(bits.Len(uint(k))-4)-1) != 0 {
		c++ // k is above its class's smallest bound
	}
	return c
}

// firstAvail returns the lowest non-empty class from k on, or -1.
func (s *Slab) firstAvail(k int) int {
	for i := k / 64; i < len(s.availBits); i++ {
		b := s.availBits[i]
		if i == k/64 {
			b &= ^uint64(0) << (k % 64)
		}
		if b != 0 {
			return i*64 + bits.TrailingZeros64(b)
		}
	}
	return -1
}

// relist moves c to the list of its bound's class (none if full).
func (s *Slab) relist(c *slabChunk) {
	k := -1
	if c.bound > 0 {
		k = slabClass(c.bound)
	}
	if k == c.class {
		return
	}
	s.unlist(c)
	if k >= 0 {
		c.class, c.slot = k, len(s.avail[k])
		s.avail[k] = append(s.avail[k], c)
		s.availBits[k/64] |= 1 << (k % 64)
	}
}

// unlist takes c off its list.
func (s *Slab) unlist(c *slabChunk) {
	k := c.class
	if k < 0 {
		return
	}
	l := s.avail[k]
	last := l[len(l)-1]
	l[c.slot], last.slot = last, c.slot
	l[len(l)-1] = nil
	s.avail[k] = l[:len(l)-1]
	if len(l) == 1 {
		s.availBits[k/64] &^= 1 << (k % 64)
	}
	c.class, c.slot = -1, 0
}

// newChunk maps a chunk. Placed slabs map exactly the blocks, page-aligned,
// and bind each block before anything touches it; others map one page more
// and start the blocks at a skew of a multiple of 64 bytes into it.
func (s *Slab) newChunk() (*slabChunk, error) {
	const page = 4096
	size := uintptr(s.n) * s.stride
	if !s.place {
		size += page
	}
	mem, err := mapSlab(size)
	if err != nil {
		return nil, fmt.Errorf("rseq: mapping a slab chunk of %d bytes: %w", size, err)
	}
	var placed int
	var placeErr error
	if s.place {
		placed, placeErr = placeBlocks(mem.base, s.stride, s.n, numaTopo().cpuNode)
	} else {
		skew := uintptr(slabChunkSeq.Add(1)%(page/64)) * 64
		mem.base = unsafe.Add(mem.base, skew)
	}
	pc, err := NewPerCPU(mem.base, s.stride, s.n, s.by)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	W := int(s.stride / 8)
	return &slabChunk{
		placed:   placed,
		placeErr: placeErr,
		slab:     s,
		mem:      mem,
		pc:       pc,
		used:     make([]uint64, (W+63)/64),
		size:     make([]uint32, W),
		free:     W,
		at:       -1,
		bound:    W,
		class:    -1,
	}, nil
}

func (c *slabChunk) isUsed(w int) bool { return c.used[w/64]&(1<<(w%64)) != 0 }

// nextRun returns the first run of free words [start, end) at or after
// word w; start is len(c.size) if there is none. It skips 64 words at a
// time through full and empty stretches.
func (c *slabChunk) nextRun(w int) (start, end int) {
	W := len(c.size)
	start = W
	for i := w / 64; i < len(c.used); i++ {
		b := ^c.used[i]
		if i == w/64 {
			b &= ^uint64(0) << (w % 64)
		}
		if b != 0 {
			start = i*64 + bits.TrailingZeros64(b)
			break
		}
	}
	if start >= W {
		return W, W
	}
	end = W
	for i := start / 64; i < len(c.used); i++ {
		b := c.used[i]
		if i == start/64 {
			b &= ^uint64(0) << (start % 64)
		}
		if b != 0 {
			end = i*64 + bits.TrailingZeros64(b)
			break
		}
	}
	return start, min(end, W)
}

// find returns the first word of the first run of k free words aligned to
// align, or -1.
func (c *slabChunk) find(k, align int) int {
	W := len(c.size)
	for w := 0; w < W; {
		start, end := c.nextRun(w)
		if a := (start + align - 1) &^ (align - 1); a+k <= end {
			return a
		}
		w = end
	}
	return -1
}

// maxFit returns the largest k for which find(k, slabAlign(k)) succeeds
// (0 if none): per run of free words, the longest 8-aligned stretch if it
// holds 5 words or more (objects of 5 words and up are 8-aligned), else
// the best of 4-aligned 3 or 4 words, 2-aligned 2 and any 1.
func (c *slabChunk) maxFit() int {
	best := 0
	W := len(c.size)
	for w := 0; w < W; {
		start, end := c.nextRun(w)
		w = end
		if start >= end {
			break
		}
		room := func(align int) int { return end - (start+align-1)&^(align-1) }
		m := 0
		switch {
		case room(8) >= 5:
			m = room(8)
		case room(4) >= 3:
			m = min(room(4), 4)
		case room(2) >= 2:
			m = 2
		default:
			m = 1
		}
		best = max(best, m)
	}
	return best
}

// take marks k words at w of c allocated, zeroes them in every block and
// updates c's place in the lists.
func (s *Slab) take(c *slabChunk, w, k int) Ref {
	for j := w; j < w+k; j++ {
		c.used[j/64] |= 1 << (j % 64)
	}
	c.size[w] = uint32(k)
	c.free -= k
	c.objs++
	c.bound = min(c.bound, c.free)
	s.relist(c)
	if s.spare == c {
		s.spare = nil
	}
	r := Ref{chunk: c, off: uintptr(w) * 8, words: k}
	for cpu := 0; cpu < c.slab.n; cpu++ {
		for j := 0; j < k; j++ {
			atomic.StoreUint64(r.word(cpu, j), 0)
		}
	}
	return r
}

// Free returns an object to the slab, for a later Alloc to reuse. No
// operation on the object may be running or start afterwards. Freeing a
// zero Ref does nothing; freeing an object twice, or one of another slab,
// panics.
func (s *Slab) Free(r Ref) {
	if r.chunk == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := r.chunk
	w := int(r.off / 8)
	if c.slab != s || r.off%8 != 0 || w >= len(c.size) || c.size[w] != uint32(r.words) || r.words == 0 {
		panic(fmt.Sprintf("rseq: Slab.Free of an object (offset %d, %d words) this slab did not allocate, or freed already", r.off, r.words))
	}
	c.size[w] = 0
	for j := w; j < w+r.words; j++ {
		c.used[j/64] &^= 1 << (j % 64)
	}
	c.free += r.words
	c.objs--
	if c.objs == 0 && s.spare != nil && s.spare != c {
		s.unmapChunk(c) // one empty chunk is kept: the spare
		return
	}
	if c.objs == 0 {
		s.spare = c
	}
	// The freed words may join others into a larger run: the exact
	// bound is unknown, free is one (the next failed find computes it).
	c.bound = c.free
	s.relist(c)
}

// unmapChunk returns an empty chunk's memory to the OS and forgets it.
func (s *Slab) unmapChunk(c *slabChunk) {
	s.unlist(c)
	last := s.chunks[len(s.chunks)-1]
	s.chunks[c.at], last.at = last, c.at
	s.chunks[len(s.chunks)-1] = nil
	s.chunks = s.chunks[:len(s.chunks)-1]
	c.at = -1
	c.mem.unmap()
	c.mem = slabMem{}
}

// SlabStats describes a slab's use.
type SlabStats struct {
	Chunks    int // mappings
	Objects   int // live objects
	UsedWords int // words per block allocated to live objects
	FreeWords int // words per block free in the mapped chunks
	Bytes     int // bytes mapped
	// Placed counts the blocks, over all chunks, bound to their CPU's NUMA
	// node: Chunks*Len() when every block was, 0 where placement does not
	// apply (see NewSlab), in between when mbind was refused or some
	// CPUs' nodes are unknown.
	Placed int
}

// Stats returns the slab's current use.
func (s *Slab) Stats() SlabStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SlabStats{Chunks: len(s.chunks)}
	for _, c := range s.chunks {
		st.Objects += c.objs
		st.FreeWords += c.free
		st.UsedWords += len(c.size) - c.free
		st.Bytes += len(c.mem.b)
		st.Placed += c.placed
	}
	return st
}

// Close unmaps the slab's memory. It fails, and unmaps nothing, while
// objects are allocated. After Close, Alloc returns ErrSlabClosed.
func (s *Slab) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	objs := 0
	for _, c := range s.chunks {
		objs += c.objs
	}
	if objs > 0 {
		return fmt.Errorf("rseq: Slab.Close: %d objects are still allocated", objs)
	}
	s.closed = true
	var err error
	for _, c := range s.chunks {
		if e := c.mem.unmap(); e != nil && err == nil {
			err = e
		}
		c.mem, c.at, c.class = slabMem{}, -1, -1
	}
	s.chunks, s.avail, s.availBits, s.spare = nil, [slabClasses][]*slabChunk{}, [slabClasses / 64]uint64{}, nil
	return err
}

// The slabs the structures of this package allocate from, one per Indexing,
// made on first use and never closed.
var defaultSlabs [2]struct {
	once sync.Once
	s    *Slab
	err  error
}

// DefaultSlab returns the process-wide slab of the default stride
// (NewSlab(0, by): DefaultSlabStride, or one page where blocks are placed
// on NUMA nodes) indexed by by, which NewCounter and the other
// constructors of this package use.
func DefaultSlab(by Indexing) (*Slab, error) {
	if by != ByCPU && by != ByConcurrencyID {
		return nil, fmt.Errorf("rseq: DefaultSlab: unknown index %d", int(by))
	}
	d := &defaultSlabs[by]
	d.once.Do(func() { d.s, d.err = NewSlab(0, by) })
	return d.s, d.err
}

// allocDefault allocates from DefaultSlab(ByCPU), panicking if memory
// cannot be mapped (as make does when the heap cannot grow).
func allocDefault(words int) Ref {
	s, err := DefaultSlab(ByCPU)
	if err == nil {
		var r Ref
		if r, err = s.Alloc(words); err == nil {
			return r
		}
	}
	panic(err)
}
