//go:build !cgo || !linux

package libc

// Read reports that no C library is linked.
func Read() State { return State{} }
