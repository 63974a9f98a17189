package rseq

import (
	"os"
	"unsafe"
)

// OpenSharedRing maps the shared Ring in the file at path, creating the
// file (mode opts.Mode, 0600 by default) and empty rings of slots records
// of recordSize bytes per CPU if the file does not exist or is empty. An
// existing ring must have that shape (0 and 0 accept any). Any process may
// push; Drains are serialized across processes by a lock word in the file
// (a consumer that dies holding it is detected by its process id and
// replaced). It fails if this process does not run restartable sequences
// (ErrSharedUnsupported), if the file holds something else, or if it was
// made for another CPU count.
//
// Push on a shared ring never takes the fallback: it panics if the calling
// thread cannot register for restartable sequences. Close unmaps this
// process's mapping only.
func OpenSharedRing(path string, recordSize, slots int, opts *SharedOptions) (*Ring, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, opts.mode())
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	return OpenSharedRingFile(f, recordSize, slots)
}

// OpenSharedRingFile is OpenSharedRing on an open file, such as a memfd
// from NewSharedMemfd. f stays the caller's to close.
func OpenSharedRingFile(f *os.File, recordSize, slots int) (*Ring, error) {
	if recordSize != 0 || slots != 0 {
		if err := checkRingShape(recordSize, slots); err != nil {
			return nil, err
		}
	}
	mem, l, err := mapShared(f, newSharedLayout(sharedRingKind, recordSize, slots))
	if err != nil {
		return nil, err
	}
	q, err := newRingAt(mem, unsafe.Add(mem.base, l.dataOff), uintptr(l.stride), l.cpus, ByCPU, l.recSize, l.slots)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	q.shared = (*uint64)(unsafe.Add(mem.base, l.lockOff))
	return q, nil
}
