package rseq

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
)

// Shared per-CPU structures live in a file (or a memfd) that several
// processes map. They work because a CPU runs one thread at a time, of
// whatever process, and the kernel aborts a restartable sequence whenever
// its thread is preempted: two processes' sections on one CPU's block
// exclude each other exactly as two threads' do. Three conditions follow,
// which opening checks:
//
//   - Every process must run the engine. The fallback serializes with locks
//     and fences that are private to a process, so an update through it
//     would race with another process's sections. Opening fails with an
//     error matching ErrNotSupported where ReadInfo().Usable is false (other OS or
//     architecture, -race builds, GORSEQ=off, seccomp, old kernels), and
//     operations on shared memory never fall back: a thread that cannot
//     register makes them panic rather than corrupt the data.
//   - Blocks are indexed by CPU number (cpu_id). The concurrency id
//     (mm_cid) is per process: two processes' threads can hold the same
//     one on different CPUs at the same instant.
//   - Every process must agree on the number of CPU ids: the file records
//     PossibleCPUs() and a process that sees another count cannot open it.
//
// The file starts with a header (sharedHeaderSize bytes) that describes
// the layout. Opening validates every field and bounds-checks every offset
// against the size of the mapping, so a corrupted or hostile file can make
// opening fail, but never make this process access memory outside the
// mapping. It cannot stop a process that can write the file from writing
// garbage into the records or counters (that is what sharing means).
//
// Creating a file reserves its blocks (fallocate), so a full file system
// (a small /dev/shm) makes opening fail with an error that wraps ENOSPC,
// rather than the first update fault. What opening cannot prevent: another
// process that truncates a path-backed file makes every process that maps
// it fault (SIGBUS) at its next access. A memfd is sealed against
// shrinking and growing once initialized; for a path, use a directory that
// only trusted processes can write, or pass a memfd.

// errShared is the error of opening shared memory in a process that does
// not run restartable sequences: the fallback's locks are per process.
func errShared(r Reason) error {
	return notSupported(featureShared, r, "every process sharing it must run restartable sequences: the fallback's locks are per process", nil)
}

// SharedOptions are the options of OpenSharedCounter and OpenSharedRing.
// A nil *SharedOptions means the defaults.
type SharedOptions struct {
	// Mode is the permission of a file that opening creates (0600 when
	// zero). Existing files keep theirs.
	Mode os.FileMode
}

func (o *SharedOptions) mode() os.FileMode {
	if o == nil || o.Mode == 0 {
		return 0o600
	}
	return o.Mode.Perm()
}

// The shared header, at offset 0 of the file. Little-endian words.
const (
	shMagic   = 0  // u64: sharedMagic, stored last at initialization
	shVersion = 8  // u32: sharedVersion
	shKind    = 12 // u32: sharedCounterKind or sharedRingKind
	shCPUs    = 16 // u32: number of blocks, = PossibleCPUs() of every user
	shFlags   = 20 // u32: 0
	shStride  = 24 // u64: bytes per block
	shDataOff = 32 // u64: offset of block 0 in the file
	shObjOff  = 40 // u64: counter: its word in each block; ring: the first slot (ringHdr)
	shRecSize = 48 // u32: ring: record size; counter: 0
	shSlots   = 52 // u32: ring: slots per CPU; counter: 0
	shLockOff = 56 // u64: ring: the 8 bytes of the header its consumers lock (F_OFD_SETLKW); counter: 0
	shFields  = 64 // bytes of fields; the rest of the header is zero

	// sharedHeaderSize is the header's size in a file this package
	// creates: a page, so that blocks start page-aligned.
	sharedHeaderSize = 4096
	// sharedLockOff is the range a created ring's consumers lock.
	sharedLockOff = 64

	sharedMagic = 0x4853_7165_7372_6f67 // "gorseqSH"
	// sharedVersion is the version of a counter file; sharedRingVersion
	// that of a ring file. Version 1 rings serialized their consumers
	// with a process id in the lock word, which fails across pid
	// namespaces and when pids are reused; version 2 rings lock the same
	// bytes with open-file-description locks (F_OFD_SETLKW). The two
	// cannot share a ring, hence the new version.
	sharedVersion     = 1
	sharedRingVersion = 2

	sharedCounterKind = 1
	sharedRingKind    = 2

	// maxSharedSize bounds the mapping a file may ask for: larger files
	// are refused as too large.
	maxSharedSize = 1 << 40
	// maxSharedCPUs bounds the CPU count a file may claim (NewPerCPU's).
	maxSharedCPUs = 1 << 20
	// sharedCounterStride: a cache line per CPU.
	sharedCounterStride = 64
)

// sharedLayout is a validated header.
type sharedLayout struct {
	kind     uint32
	cpus     int
	stride   uint64
	dataOff  uint64
	objOff   uint64
	recSize  int
	slots    int
	lockOff  uint64
	dataSize uint64 // dataOff + cpus*stride: the bytes the layout uses
}

func (l sharedLayout) kindName() string {
	switch l.kind {
	case sharedCounterKind:
		return "counter"
	case sharedRingKind:
		return "ring"
	}
	return fmt.Sprintf("kind %d", l.kind)
}

// parseSharedHeader validates the header at the start of a mapping of
// len(b) bytes. On success every offset of the layout lies inside b: blocks
// [dataOff, dataOff+cpus*stride), the counter's word or the ring's header
// and slots inside each block, the ring's lock word inside the header. It
// does not check the CPU count against this machine (see openLayout).
func parseSharedHeader(b []byte) (sharedLayout, error) {
	bad := func(format string, args ...any) (sharedLayout, error) {
		return sharedLayout{}, fmt.Errorf("rseq: shared file: "+format, args...)
	}
	if len(b) < shFields {
		return bad("%d bytes, too short for a header", len(b))
	}
	le := binary.LittleEndian
	if m := le.Uint64(b[shMagic:]); m != sharedMagic {
		return bad("bad magic %#x (not a shared rseq file, or not initialized)", m)
	}
	switch v, kind := le.Uint32(b[shVersion:]), le.Uint32(b[shKind:]); {
	case kind == sharedRingKind && v == 1:
		return bad("a version 1 ring, whose consumers lock by process id (unsafe across pid namespaces); this package reads version %d rings: recreate the file", sharedRingVersion)
	case kind == sharedRingKind && v != sharedRingVersion:
		return bad("ring version %d, this package reads version %d", v, sharedRingVersion)
	case kind != sharedRingKind && v != sharedVersion:
		return bad("version %d, this package reads version %d", v, sharedVersion)
	}
	if f := le.Uint32(b[shFlags:]); f != 0 {
		return bad("unknown flags %#x", f)
	}
	l := sharedLayout{
		kind:    le.Uint32(b[shKind:]),
		stride:  le.Uint64(b[shStride:]),
		dataOff: le.Uint64(b[shDataOff:]),
		objOff:  le.Uint64(b[shObjOff:]),
		lockOff: le.Uint64(b[shLockOff:]),
	}
	cpus := le.Uint32(b[shCPUs:])
	recSize := le.Uint32(b[shRecSize:])
	slots := le.Uint32(b[shSlots:])
	size := uint64(len(b))
	switch {
	case cpus < 1 || cpus > maxSharedCPUs:
		return bad("%d CPUs (want 1 to %d)", cpus, maxSharedCPUs)
	case l.stride < 8 || l.stride%8 != 0 || l.stride > size:
		return bad("block stride %d is not a positive multiple of 8 inside the %d-byte mapping", l.stride, size)
	case l.dataOff < shFields || l.dataOff%64 != 0 || l.dataOff > size:
		return bad("data offset %d is not a multiple of 64 between the header fields and the end of the %d-byte mapping", l.dataOff, size)
	}
	hi, lo := bits.Mul64(uint64(cpus), l.stride)
	if hi != 0 || lo > size-l.dataOff {
		return bad("%d blocks of %d bytes at offset %d overrun the %d-byte mapping", cpus, l.stride, l.dataOff, size)
	}
	l.cpus = int(cpus)
	l.dataSize = l.dataOff + lo
	switch l.kind {
	case sharedCounterKind:
		switch {
		case l.objOff%8 != 0 || l.objOff > l.stride-8:
			return bad("counter word at offset %d is not an aligned word inside the %d-byte block", l.objOff, l.stride)
		case recSize != 0 || slots != 0 || l.lockOff != 0:
			return bad("counter with ring fields (record size %d, slots %d, lock %d)", recSize, slots, l.lockOff)
		}
	case sharedRingKind:
		switch {
		case recSize < 1 || recSize > MaxRingRecord:
			return bad("record size %d (want 1 to %d)", recSize, MaxRingRecord)
		case slots < 1 || slots > MaxRingSlots || slots&(slots-1) != 0:
			return bad("%d slots (want a power of two up to %d)", slots, MaxRingSlots)
		case l.objOff != ringHdr:
			return bad("first slot at offset %d, want %d", l.objOff, ringHdr)
		case l.lockOff < shFields || l.lockOff%8 != 0 || l.lockOff > l.dataOff-8:
			return bad("consumer lock at offset %d is not an aligned word between the header fields and the data at %d", l.lockOff, l.dataOff)
		}
		slotSize := (uint64(recSize) + 7) &^ 7
		if l.stride < ringHdr || uint64(slots) > (l.stride-ringHdr)/slotSize {
			return bad("%d slots of %d bytes do not fit the %d-byte block", slots, slotSize, l.stride)
		}
		l.recSize, l.slots = int(recSize), int(slots)
	default:
		return bad("unknown layout kind %d", l.kind)
	}
	return l, nil
}

// putSharedHeader writes every field of l but the magic, which the creator
// stores last.
func putSharedHeader(b []byte, l sharedLayout) {
	le := binary.LittleEndian
	v := uint32(sharedVersion)
	if l.kind == sharedRingKind {
		v = sharedRingVersion
	}
	le.PutUint32(b[shVersion:], v)
	le.PutUint32(b[shKind:], l.kind)
	le.PutUint32(b[shCPUs:], uint32(l.cpus))
	le.PutUint32(b[shFlags:], 0)
	le.PutUint64(b[shStride:], l.stride)
	le.PutUint64(b[shDataOff:], l.dataOff)
	le.PutUint64(b[shObjOff:], l.objOff)
	le.PutUint32(b[shRecSize:], uint32(l.recSize))
	le.PutUint32(b[shSlots:], uint32(l.slots))
	le.PutUint64(b[shLockOff:], l.lockOff)
}

// newSharedLayout is the layout a file created for want gets.
func newSharedLayout(kind uint32, recSize, slots int) sharedLayout {
	l := sharedLayout{kind: kind, cpus: max(PossibleCPUs(), 1), dataOff: sharedHeaderSize}
	switch kind {
	case sharedCounterKind:
		l.stride = sharedCounterStride
	case sharedRingKind:
		l.stride = uint64(ringStride((uintptr(recSize)+7)&^7, uint64(slots)))
		l.objOff, l.recSize, l.slots, l.lockOff = ringHdr, recSize, slots, sharedLockOff
	}
	l.dataSize = l.dataOff + uint64(l.cpus)*l.stride
	return l
}

// matches says whether an existing file's layout is the one asked for
// (recSize or slots 0: any).
func (l sharedLayout) matches(want sharedLayout) error {
	switch {
	case l.kind != want.kind:
		return fmt.Errorf("rseq: shared file holds a %s, not a %s", l.kindName(), want.kindName())
	case l.cpus != want.cpus:
		return fmt.Errorf("rseq: shared file was made for %d CPU ids, this machine has %d possible CPUs: processes sharing per-CPU memory must agree on the CPU count", l.cpus, want.cpus)
	case want.recSize != 0 && l.recSize != want.recSize:
		return fmt.Errorf("rseq: shared ring has %d-byte records, not %d", l.recSize, want.recSize)
	case want.slots != 0 && l.slots != want.slots:
		return fmt.Errorf("rseq: shared ring has %d slots per CPU, not %d", l.slots, want.slots)
	}
	return nil
}
