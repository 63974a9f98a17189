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
	if in := ReadInfo(); !in.Usable {
		return slabMem{}, sharedLayout{}, errShared(in.Reason)
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
		switch {
		case size < shFields:
			return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: shared file of %d bytes is too short for a header: not a shared rseq file", size)
		case size > maxSharedSize || uint64(size) > uint64(^uint(0)>>1):
			return slabMem{}, sharedLayout{}, fmt.Errorf("rseq: shared file of %d bytes is too large (at most %d bytes are mapped): grown or truncated by another program?", size, uint64(maxSharedSize))
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
		if err == nil {
			err = checkAffinity(l.cpus)
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
	if err := checkAffinity(want.cpus); err != nil {
		return slabMem{}, sharedLayout{}, err
	}
	if err := reserveShared(fd, int64(total)); err != nil {
		return slabMem{}, sharedLayout{}, err
	}
	mem, err := mmapShared(fd, int(total))
	if err != nil {
		unix.Ftruncate(fd, 0) // leave it empty, as found
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

// reserveShared sizes a new shared file to size bytes with its blocks
// allocated, so that no later access to the mapping can fault for want of
// space (a file sized by ftruncate alone is sparse: on a full tmpfs the
// first store to a page dies of SIGBUS). Where fallocate is not supported
// it writes zeros, which allocates as well. On failure the file is left
// empty, and the error wraps the cause (ENOSPC when the file system is
// full).
func reserveShared(fd int, size int64) error {
	err := fallocate(fd, size)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		err = writeZeros(fd, size)
	}
	if err != nil {
		unix.Ftruncate(fd, 0)
		return fmt.Errorf("rseq: reserving %d bytes for the shared file: %w", size, err)
	}
	return nil
}

func fallocate(fd int, size int64) error {
	for {
		err := unix.Fallocate(fd, 0, 0, size)
		if err != unix.EINTR {
			return err
		}
	}
}

func writeZeros(fd int, size int64) error {
	zeros := make([]byte, 64<<10)
	for off := int64(0); off < size; {
		n, err := unix.Pwrite(fd, zeros[:min(int64(len(zeros)), size-off)], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// checkAffinity checks that every CPU this process may run on has a block
// among cpus: a CPU number past them would make every update on it fail.
// It happens where /sys/devices/system/cpu/possible (PossibleCPUs) claims
// fewer CPUs than the kernel schedules this process on, as some container
// runtimes' emulated sysfs does. (Best effort: the affinity may widen
// later; SharedCounter.Add and a shared Ring's Push then say the same.)
func checkAffinity(cpus int) error {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return nil // more CPUs than a CPUSet holds: nothing to compare
	}
	top := -1
	for i := len(set)*int(unsafe.Sizeof(set[0]))*8 - 1; i >= cpus; i-- {
		if set.IsSet(i) {
			top = i
			break
		}
	}
	if top >= 0 {
		return errCPUOutside(top, cpus)
	}
	return nil
}

// errCPUOutside explains why a process running on CPU cpu cannot update
// shared memory of cpus blocks.
func errCPUOutside(cpu, cpus int) error {
	return fmt.Errorf("rseq: this process runs (or may run) on CPU %d, but the shared file has blocks for CPUs 0 to %d only, and PossibleCPUs() is %d: /sys/devices/system/cpu/possible lists fewer CPUs than the kernel runs this process on (an emulated sysfs?), so shared per-CPU memory cannot be used here", cpu, cpus-1, PossibleCPUs())
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

// consumerLock serializes the consumers (Drain) of a shared ring across
// processes: a write lock on 8 bytes of the file's header, taken with
// F_OFD_SETLKW through a descriptor of this Ring's own. An
// open-file-description lock belongs to the open file, not to a process:
// the kernel releases it when the last descriptor of that open file is
// closed, so when its holder exits or is killed; it knows nothing of
// process ids, so pid namespaces and pid reuse do not matter.
//
// The descriptor must be a new open of the file, not a dup: two processes
// sharing one open file description (a memfd passed to a child, which gets
// a dup of the parent's) would share its locks and not exclude each other.
type consumerLock struct {
	fd    int
	off   int64
	clean runtime.Cleanup
}

// newConsumerLock opens the file of f again for the lock on [off, off+8).
// owned says that f is an open file description no one else holds (the
// Ring opened it and closes it), so a dup of it will do where the
// reopening through /proc fails.
func newConsumerLock(f *os.File, off uint64, owned bool) (*consumerLock, error) {
	defer runtime.KeepAlive(f)
	src := int(f.Fd())
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", src), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil && owned {
		fd, err = unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("rseq: opening the shared ring again for its consumer lock (through /proc/self/fd): %w", err)
	}
	var a, b unix.Stat_t
	if unix.Fstat(src, &a) != nil || unix.Fstat(fd, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		unix.Close(fd)
		return nil, fmt.Errorf("rseq: opening the shared ring again for its consumer lock gave another file")
	}
	l := &consumerLock{fd: fd, off: int64(off)}
	l.clean = runtime.AddCleanup(l, func(fd int) { unix.Close(fd) }, fd)
	return l, nil
}

// lock blocks until this process holds the lock.
func (l *consumerLock) lock() error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: l.off, Len: 8}
	for {
		err := unix.FcntlFlock(uintptr(l.fd), unix.F_OFD_SETLKW, &lk)
		if err != unix.EINTR {
			runtime.KeepAlive(l)
			return err
		}
	}
}

func (l *consumerLock) unlock() error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: l.off, Len: 8}
	err := unix.FcntlFlock(uintptr(l.fd), unix.F_OFD_SETLK, &lk)
	runtime.KeepAlive(l)
	return err
}

// close closes the descriptor, releasing the lock if held.
func (l *consumerLock) close() {
	l.clean.Stop()
	unix.Close(l.fd)
}
