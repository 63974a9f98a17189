//go:build !linux

package libc

// Read reports that no C library's rseq state is known: rseq is Linux's.
func Read() State { return State{} }
