// Package libc is the cgo shim of package rseq: it tells whether the C
// library registered an rseq area for every thread (glibc 2.35+, through
// __rseq_offset and __rseq_size), and gives rseq a per-thread area of its own
// in C thread-local storage when the C library did not register one.
//
// Go refuses cgo and Go assembly in one package, so this lives apart from the
// engine. Without cgo (CGO_ENABLED=0) the same API reports that no C library
// is linked.
package libc

// State is what the C side of the process says, read once at start-up.
type State struct {
	// Linked: a C library is linked in and created this process's threads.
	Linked bool
	// Registered: the C library registered an rseq area for its threads
	// (glibc exports __rseq_size > 0).
	Registered bool
	// Offset of the C library's area from the thread pointer (__rseq_offset).
	Offset int64
	// Size is __rseq_size: the feature size the C library registered
	// (glibc 2.40 says 20, glibc 2.41+ the kernel's feature size).
	Size uint32
	// OwnOffset is the offset from the thread pointer of a thread-local
	// 128-byte, 64-byte-aligned area this shim reserves for package rseq,
	// used when the C library registered nothing. Its cpu_id and mm_cid
	// fields start as 0xFFFFFFFF on every thread (the TLS image), which
	// marks a thread that has not registered it yet.
	OwnOffset int64
	// OwnSize is the size of that area in bytes.
	OwnSize uint32
}
