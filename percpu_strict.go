package rseq

import (
	"errors"
	"fmt"
	"unsafe"
)

// Engine-only operations, for memory shared with other processes.
//
// The fallback is safe only within one process: its locks live in this
// process, and the fence it raises before touching memory (membarrier's
// private expedited RSEQ command) interrupts only this process's threads.
// Another process's critical sections on the same shared words would race
// with it. So operations on shared memory never take the fallback: a
// section diverted because a fallback operation is running elsewhere in
// this process (on private memory) waits for it to end and runs again, and
// a thread that cannot register is an error, never a silent slow path.

// errStrictUnregistered is what an engine-only operation reports on a
// thread that has no rseq registration and cannot get one.
var errStrictUnregistered = errors.New("rseq: this thread has no rseq registration; shared per-CPU memory cannot be updated without one (the fallback is not safe across processes)")

// strictAdd is Add on the caller's block (Current) through the engine only.
func (p *PerCPU) strictAdd(off uintptr, delta int64) error {
	if p.bad(Current, off) {
		p.complain("add", Current, off)
	}
	if !p.useEngine() {
		return errStrictUnregistered
	}
	for {
		_, _, st := rsAdd(&p.s, Current, off, uint64(delta))
		if st == stCommitted {
			return nil
		}
		if err := p.strictRetry(st); err != nil {
			return err
		}
	}
}

// strictCopy is CopyAndStore on block cpu (an explicit index) through the
// engine only. Its arguments must have been checked (Ring checks its
// layout once, at open).
func (p *PerCPU) strictCopy(cpu int, off uintptr, expect uint64, dstOff uintptr, src []byte, nv uint64) (Result, error) {
	if !p.useEngine() {
		return Failed, errStrictUnregistered
	}
	for {
		_, _, st := rsCopy(&p.s, cpu, off, expect, dstOff, unsafe.Pointer(unsafe.SliceData(src)), uintptr(len(src)), nv)
		switch st {
		case stCommitted, stFailed, stWrongCPU:
			return result(st), nil
		}
		if err := p.strictRetry(st); err != nil {
			return Failed, err
		}
	}
}

// strictRetry decides what an engine-only operation does after status st
// (neither committed nor failed): nil means run the section again.
//
// stUnregistered describes the thread the section ran on, which need not
// be the thread the goroutine runs on now: the decision is made on the
// current thread. Not registered yet: register it and retry. Registered,
// with an index inside the memory: retry (the section ran on another,
// fresh thread). Registered, with an index past the memory's end: the
// process runs on a CPU the shared memory was not made for. Cannot
// register: the error.
func (p *PerCPU) strictRetry(st int) error {
	switch st {
	case stAborted:
		aborts.Add(1)
		return nil
	case stDiverted:
		// A fallback operation on this process's private memory: wait it
		// out (microseconds); shared memory has no fallback to join.
		waitFallbacksFor(-1)
		return nil
	case stUnregistered:
		id := readArea32(p.s.idOff)
		switch {
		case threadState() == idUnset:
			if registerThread() {
				return nil
			}
		case threadState() >= idFailed:
		case uintptr(id) < p.s.n:
			return nil
		default:
			return &strictIndexError{id: int(id), n: int(p.s.n)}
		}
		return errStrictUnregistered
	case stCorrupt:
		return errors.New("rseq: shared per-CPU memory is corrupted")
	}
	return errStrictUnregistered
}

// strictIndexError: the thread runs on a CPU past the end of the shared
// per-CPU memory.
type strictIndexError struct{ id, n int }

func (e *strictIndexError) Error() string {
	return fmt.Sprintf("rseq: this thread runs on CPU %d, but the shared per-CPU memory has blocks for CPUs 0 to %d only (the processes sharing it must have the same PossibleCPUs)", e.id, e.n-1)
}
