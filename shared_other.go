//go:build !linux

package rseq

import (
	"errors"
	"fmt"
	"os"
)

func mapShared(f *os.File, want sharedLayout) (slabMem, sharedLayout, error) {
	return slabMem{}, sharedLayout{}, errShared(ReasonNotLinux)
}

// NewSharedMemfd is available on Linux only.
func NewSharedMemfd(name string) (*os.File, error) {
	return nil, errors.New("rseq: memfd_create is Linux only")
}

// consumerLock is the cross-process lock of shared rings, which cannot be
// opened here.
type consumerLock struct{}

func newConsumerLock(f *os.File, off uint64, owned bool) (*consumerLock, error) {
	return nil, errShared(ReasonNotLinux)
}

func (l *consumerLock) lock() error   { return errShared(ReasonNotLinux) }
func (l *consumerLock) unlock() error { return errShared(ReasonNotLinux) }
func (l *consumerLock) close()        {}

func errCPUOutside(cpu, cpus int) error {
	return fmt.Errorf("rseq: CPU %d is outside the shared file's %d CPUs", cpu, cpus)
}
