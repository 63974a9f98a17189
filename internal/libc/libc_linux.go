//go:build linux

package libc

import (
	"errors"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// iscgo is set by package runtime/cgo. The runtime keeps it reachable by
// linkname on purpose (go.dev/issue/67401).
//
//go:linkname iscgo runtime.iscgo
var iscgo bool

// atBase is AT_BASE: the load address of the program interpreter.
const atBase = 7

// Read returns the C library's rseq state.
func Read() State {
	s := State{Linked: iscgo}
	if !s.Linked {
		return s
	}
	base := auxv(atBase)
	if base == 0 {
		s.Static = true
		return s
	}
	obj, err := openImage(base)
	if err != nil {
		s.Err = err
		return s
	}
	offAt, okOff := obj.lookup("__rseq_offset", 8)
	sizeAt, okSize := obj.lookup("__rseq_size", 4)
	if !okOff || !okSize {
		return s // musl, glibc before 2.35: no rseq support in the C library
	}
	s.Found = true
	s.Offset = *(*int64)(ptrAt(offAt))
	s.Size = *(*uint32)(ptrAt(sizeAt))
	s.Registered = s.Size > 0
	return s
}

func auxv(key uintptr) uintptr {
	av, err := unix.Auxv()
	if err != nil {
		return 0
	}
	for _, kv := range av {
		if kv[0] == key {
			return kv[1]
		}
	}
	return 0
}

var errNotELF = errors.New("libc: the program interpreter is not a 64-bit little-endian ELF image")
