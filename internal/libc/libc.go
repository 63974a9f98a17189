// Package libc finds out, without cgo, what the C library of this process
// did about restartable sequences.
//
// Package rseq must not use cgo: any cgo package makes a binary link the C
// library dynamically, which would silently change how every program that
// imports rseq links. So this package reads what it needs from memory the
// process already has:
//
//   - whether a C library is linked at all: the Go runtime's iscgo, true
//     when package runtime/cgo is in the binary (any package that uses cgo,
//     or net and os/user with their cgo resolvers);
//   - where glibc 2.35+ keeps each thread's rseq area and with what size:
//     the values of __rseq_offset and __rseq_size, which the dynamic loader
//     (ld.so, the program interpreter named by AT_BASE in the auxiliary
//     vector) exports; they are looked up in its dynamic symbol table, in
//     memory, the way the loader itself resolves symbols (elf.go).
//
// What the lookup finds is only a claim: package rseq verifies it against
// the kernel before using it (the registration it describes must exist).
package libc

// State is what the C side of the process says, read once at start-up.
type State struct {
	// Linked: a C library is linked in (runtime/cgo is in the binary) and
	// created this process's threads.
	Linked bool
	// Found: a dynamic loader was found and its __rseq_offset and
	// __rseq_size were read (glibc 2.35+). False in static binaries (no
	// loader), with musl and older glibc (no such symbols), and without a
	// C library.
	Found bool
	// Static: a C library is linked but the process has no dynamic loader
	// (a static binary); its symbols cannot be looked up.
	Static bool
	// Registered: the C library registered an rseq area for its threads
	// (__rseq_size > 0). glibc's rseq off
	// (GLIBC_TUNABLES=glibc.pthread.rseq=0) reads 0.
	Registered bool
	// Offset of the C library's area from the thread pointer (__rseq_offset).
	Offset int64
	// Size is __rseq_size: the feature size the C library registered
	// (glibc 2.35-2.39 say 32, 2.40 says 20, 2.41+ the kernel's feature
	// size); the registered length is at least 32.
	Size uint32
	// Err says why the symbols could not be read, when a loader was found
	// but its symbol table was not as expected.
	Err error
}
