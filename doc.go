// Package rseq gives Go programs true per-CPU data through Linux
// restartable sequences (rseq).
//
// # The model
//
// An operation of this package runs on the data of the CPU the calling
// thread is on, as a critical section: a few instructions that end in one
// committing store. If the thread is preempted, migrated to another CPU or
// signalled before that store, the kernel aborts the section and it starts
// over, on whatever CPU the thread then runs on. So a per-CPU update needs
// no atomic instruction and shares no cache line with other CPUs: Counter
// adds to this CPU's word, RWMutex readers count on this CPU's words,
// FreeList and BufferPool keep a cache of free handles per CPU, Ring keeps
// one log per CPU.
//
// The lower layer is for building such structures: PerCPU describes n
// blocks of memory, one per CPU (Slab allocates them, many small objects
// sharing each CPU's cache lines), and its operations (Add,
// CompareAndSwap, Push, Pop, CopyAndStore) each run as one critical section
// on the block of the index Current (the caller's CPU, read inside the
// section) or of an explicit index, which is answered NotOnCPU when the
// caller runs elsewhere. A goroutine may change CPU between any two calls:
// never keep a CPU number as "mine"; pass Current, or use CPU() as a hint.
//
// # The fallback is never wrong
//
// Where restartable sequences cannot be used (another OS or architecture,
// a kernel without rseq or without membarrier's RSEQ fence, seccomp, an
// emulator, the race detector, GORSEQ=off), the same API runs on a
// lock-based fallback: the same results, slower. Info says which path this
// process takes and why. Both paths may run at once on the same memory (a
// thread that cannot register); the fallback then fences the sections
// first.
//
// # When to use it
//
// Per-CPU data pays off for values written far more often than they are
// read, by many goroutines on many cores: counters and metrics, free lists
// and pools, per-CPU logs, and the readers of read-mostly locks. Reading a
// per-CPU value means visiting every CPU's copy, so it suits data read
// rarely (a scrape, a report). Acting on another CPU's data (draining it,
// a writer of RWMutex revoking the readers' fast path) takes a fence, a
// membarrier system call of some microseconds. The gain over a shared
// atomic grows with the number of cores: on two cores that share a cache a
// contended atomic costs only a few nanoseconds, on many cores far more.
// go run github.com/gorseq/rseq/cmd/rseq bench measures it on a machine.
//
// # Errors and panics
//
// Constructors whose arguments can be wrong, or whose request the kernel or
// the file system can refuse (sizes, a Slab, a file), return an error.
// Constructors with nothing to get wrong (NewCounter, NewLocks,
// NewSharded) panic only where make would: when memory cannot be mapped.
// Misuse that would corrupt memory (a misaligned offset, an index out of
// range, a buffer Put twice, a structure used after Close) panics with a
// message naming the type and the method, before any memory is touched.
// Everything that says rseq or one of its features is unavailable here is
// an error that errors.Is ErrNotSupported.
//
// The hazards (debuggers, seccomp after glibc, fork without exec) are in
// the README.
package rseq
