//go:build linux

package rseq

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapShared maps f, creating the layout want in it if it is empty (or was
// left uninitialized by a creator that died), else validating the layout
// it holds against want. Opening processes are serialized by an exclusive
// flock on the file, held until the layout is checked.
func mapShared(f *os.File, want sharedLayout) (slabMem, sharedLayout, error) {
	if in := Info(); !in.Usable {
		return slabMem{}, sharedLayout{}, fmt.Errorf("%w: this process runs the fallback (%s)", ErrSharedUnsupported, in.Reason)
	}
	defer runtime.KeepAlive(f)
	fd := int(f.Fd())
	if err := flock(fd, unix.LOCK_EX); err != nil {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: locking the shared file: %w", err)
	}
	defer flock(fd, unix.LOCK_UN)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: shared file: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: shared file is not a regular file or memfd (mode %#o)", st.Mode)
	}
	size := st.Size
	if size != 0 {
		if size < shFields || size > maxSharedSize || uint64(size) > uint64(^uint(0)>>1) {
			return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: shared file of %d bytes: not a shared rseq file", size)
		}
		mem, err := mmapShared(fd, int(size))
		if err != nil {
			return slabMem{}, sharedLayout{}, err
		}
		// A file with no magic is not ours, or its creator died while
		// initializing it: never reinitialize (it may hold someone's data).
		l, err := parseSharedHeader(mem.b)
		if err == nil {
			err = l.matches(want)
		}
		if err != nil {
			mem.unmap()
			return slabMem{}, sharedLayout{}, err
		}
		return mem, l, nil
	}
	if want.recSize == 0 && want.kind == sharedRingKind {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: creating a shared ring needs a record size and a slot count")
	}
	page := uint64(unix.Getpagesize())
	total := (want.dataSize + page - 1) &^ (page - 1)
	if total > maxSharedSize || total > uint64(^uint(0)>>1) {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: a shared layout of %d bytes is too large", total)
	}
	if err := unix.Ftruncate(fd, int64(total)); err != nil {
		return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: sizing the shared file: %w", err)
	}
	mem, err := mmapShared(fd, int(total))
	if err != nil {
		return slabMem{}, sharedLayout{}, err
	}
	putSharedHeader(mem.b, want)
	atomic.StoreUint64((*uint64)(mem.base), sharedMagic) // last: the layout is complete
	// A memfd can be sealed so that no process resizes it under the
	// others' mappings; a plain file answers EINVAL and stays unsealed.
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW)
	l, err := parseSharedHeader(mem.b) // what we wrote must read back
	if err != nil {
		mem.unmap()
		return slabMem{}, sharedLayout{}, err
	}
	return mem, l, nil
}

func mmapShared(fd, size int) (slabMem, error) {
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return slabMem{}, fmt.Errorf("rseq: mapping the shared file (%d bytes): %w", size, err)
	}
	return slabMem{b: b, base: unsafe.Pointer(&b[0])}, nil
}

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// NewSharedMemfd creates an anonymous file (memfd_create) to hold shared
// per-CPU structures, for processes that pass it on as a descriptor (for
// example in exec.Cmd.ExtraFiles) rather than name a path.
func NewSharedMemfd(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("rseq: memfd_create: %w", err)
	}
	return os.NewFile(uintptr(fd), "memfd:"+name), nil
}
