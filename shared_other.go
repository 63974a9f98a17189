//go:build !linux

package rseq

import (
	"errors"
	"fmt"
	"os"
)

func mapShared(f *os.File, want sharedLayout) (slabMem, sharedLayout, error) {
	return slabMem{}, sharedLayout{}, fmt.Errorf("%w: restartable sequences are Linux only", ErrSharedUnsupported)
}

// NewSharedMemfd is available on Linux only.
func NewSharedMemfd(name string) (*os.File, error) {
	return nil, errors.New("rseq: memfd_create is Linux only")
}
