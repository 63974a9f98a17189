//go:build !linux

package rseq

import (
	"errors"
	"unsafe"
)

// mbindPreferred is Linux's mbind(2) with MPOL_PREFERRED; other OSes place
// nothing (their topology has no nodes, so it is never called).
func mbindPreferred(addr unsafe.Pointer, length uintptr, node int) error {
	return errors.ErrUnsupported
}
