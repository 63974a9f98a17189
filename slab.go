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
// at most Stride/8 words.
//
// On a machine with several NUMA nodes, each CPU's block of a slab indexed
// ByCPU with a page-multiple stride is allocated on that CPU's node (see
// NewSlab and SlabStats.Placed).
//
// The memory holds no Go pointers and is zero when allocated. All methods
// are safe for concurrent use.
type Slab struct {
	by     Index
	stride uintptr
	n      int  // blocks per chunk: PossibleCPUs
	place  bool // bind each block to its CPU's node (slabLayout)

	mu     sync.Mutex
	chunks []*slabChunk
	closed bool
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
}

// slabChunkSeq spreads the chunks' bases over a page, so that the first
// blocks of different chunks do not alias either.
var slabChunkSeq atomic.Uint32

// NewSlab returns an empty slab whose blocks are stride bytes (a multiple
// of 8 up to MaxSlabStride, or 0 for the default) and whose PerCPUs index
// blocks by the given Index. Memory is mapped on the first Alloc.
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
func NewSlab(stride uintptr, by Index) (*Slab, error) {
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
func newSlab(stride uintptr, by Index, nodes int) (*Slab, error) {
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
func (s *Slab) By() Index { return s.by }

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
	align := 8
	if words < 8 {
		align = 1 << bits.Len(uint(words-1))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Ref{}, ErrSlabClosed
	}
	for _, c := range s.chunks {
		if c.free < words {
			continue
		}
		if w := c.find(words, align); w >= 0 {
			return c.take(w, words), nil
		}
	}
	c, err := s.newChunk()
	if err != nil {
		return Ref{}, err
	}
	s.chunks = append(s.chunks, c)
	return c.take(0, words), nil
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
	}, nil
}

func (c *slabChunk) isUsed(w int) bool { return c.used[w/64]&(1<<(w%64)) != 0 }

// find returns the first word of a run of k free words aligned to align,
// or -1.
func (c *slabChunk) find(k, align int) int {
	W := len(c.size)
outer:
	for w := 0; w+k <= W; w += align {
		for j := w; j < w+k; j++ {
			if c.isUsed(j) {
				continue outer
			}
		}
		return w
	}
	return -1
}

// take marks k words at w allocated and zeroes them in every block.
func (c *slabChunk) take(w, k int) Ref {
	for j := w; j < w+k; j++ {
		c.used[j/64] |= 1 << (j % 64)
	}
	c.size[w] = uint32(k)
	c.free -= k
	c.objs++
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
	}
	s.chunks = nil
	return err
}

// The slabs the structures of this package allocate from, one per Index,
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
func DefaultSlab(by Index) (*Slab, error) {
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
