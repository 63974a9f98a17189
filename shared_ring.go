package rseq

import (
	"os"
	"unsafe"
)

// OpenSharedRing maps the shared Ring in the file at path, creating the
// file (mode opts.Mode, 0600 by default) and empty rings of slots records
// of recordSize bytes per CPU if the file does not exist or is empty. An
// existing ring must have that shape (0 and 0 accept any). Any process may
// push; Drains are serialized across processes by an open-file-description
// lock on the file (F_OFD_SETLKW), which the kernel releases when its
// holder exits or is killed, whatever its pid namespace. A record counts
// as delivered once Drain hands it to its callback, so a consumer killed
// mid-Drain loses at most the record it was handling, and none is
// delivered twice. It fails if this process does not run restartable
// sequences (an error matching ErrNotSupported), if the file holds something else or
// is too large, if it was made for another CPU count, if creating it finds
// the file system full (an error wrapping ENOSPC: the file's space is
// reserved when it is created, so a full tmpfs cannot fault a later Push),
// or if this process may run on a CPU the file has no block for.
//
// Hazard: another process that truncates the file makes every process
// that maps it fault (SIGBUS) at its next access. Keep the file in a
// directory only trusted processes can write, or use a memfd
// (NewSharedMemfd, OpenSharedRingFile), which is sealed against resizing.
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
	return openSharedRing(f, recordSize, slots, true)
}

// OpenSharedRingFile is OpenSharedRing on an open file, such as a memfd
// from NewSharedMemfd. f stays the caller's to close. The ring opens the
// file again (through /proc/self/fd) for its consumer lock, so /proc must
// be mounted.
func OpenSharedRingFile(f *os.File, recordSize, slots int) (*Ring, error) {
	return openSharedRing(f, recordSize, slots, false)
}

// openSharedRing opens the ring; owned says that f is an open file no
// other Ring or process holds.
func openSharedRing(f *os.File, recordSize, slots int, owned bool) (*Ring, error) {
	if recordSize != 0 || slots != 0 {
		if err := checkRingShape(recordSize, slots); err != nil {
			return nil, err
		}
	}
	mem, l, err := mapShared(f, newSharedLayout(sharedRingKind, recordSize, slots))
	if err != nil {
		return nil, err
	}
	lk, err := newConsumerLock(f, l.lockOff, owned)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	q, err := newRingAt(mem, unsafe.Add(mem.base, l.dataOff), uintptr(l.stride), l.cpus, ByCPU, l.recSize, l.slots)
	if err != nil {
		lk.close()
		mem.unmap()
		return nil, err
	}
	q.shared = lk
	return q, nil
}
