package rseq

import (
	"errors"
	"runtime"
	"sync"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
	"golang.org/x/sys/unix"
)

// How this process registers its threads (thread_linux.go says how a
// thread finds its area):
//
//   - regLibc: the C library (glibc 2.35+) registered every thread; this
//     library uses those areas and never registers or unregisters one.
//   - regOwn: no registration to use (pure Go; or a C library without rseq,
//     or with its rseq turned off): each thread registers an off-heap area
//     of this library's on first use (areaPool), with a length that asks
//     Linux 7.0+ for the optimized V2 mode.
type regMode int

const (
	regNone regMode = iota
	regLibc
	regOwn
)

var (
	mode regMode
	// cgoOwn: regOwn in a process that links a C library, where cgo
	// callbacks may run on extra Ms (thread_linux.go).
	cgoOwn bool
	// areaOff is added to the thread's key to find its area. Read by
	// assembly.
	areaOff uintptr
	// regLen is the length this library registers its own areas with.
	regLen int
)

// unsetArea and failedArea stand in for the area of a thread that has not
// registered, or could not, in regOwn mode. They are never registered with
// the kernel, so writing their fields is allowed; sections arm them (the
// rseq_cs store) and then stop at their cpu_id.
var unsetArea, failedArea [16]uint64

func initStandInAreas() {
	setU32(unsafe.Pointer(&unsetArea), offCPUID, idUnset)
	setU32(unsafe.Pointer(&unsetArea), offNodeID, idUnset)
	setU32(unsafe.Pointer(&unsetArea), offMMCID, idUnset)
	setU32(unsafe.Pointer(&failedArea), offCPUID, idFailed)
	setU32(unsafe.Pointer(&failedArea), offNodeID, idUnset)
	setU32(unsafe.Pointer(&failedArea), offMMCID, idUnset)
}

func setU32(p unsafe.Pointer, off uintptr, v uint32) { *(*uint32)(unsafe.Add(p, off)) = v }

func sysRegister(area unsafe.Pointer, length int, sig uint32) error {
	e := abi.Register(area, length, 0, sig)
	if e != 0 && e != unix.EBUSY { // EBUSY: this very area is registered already
		return e
	}
	return nil
}

// threadState reads this thread's cpu_id: below 1<<31 it is registered.
func threadState() uint32 { return readArea32(offCPUID) }

// registerCurrent registers the calling thread if it is not registered yet.
// The caller must have locked the goroutine to its thread.
func registerCurrent() error {
	switch threadState() {
	case idUnset:
	case idFailed:
		return errThreadFailed
	default:
		return nil // registered already
	}
	if mode != regOwn { // regLibc: the C library's registration of this thread failed
		return errThreadFailed
	}
	if cgoOwn && inCgoCallback() {
		// Possibly an extra M, which a later C thread may inherit: no key
		// may stay in it. This operation takes the fallback.
		return errInCallback
	}
	area := areas.alloc()
	if err := sysRegister(area, regLen, archSig); err != nil {
		areas.release(area)
		setThreadWord(uintptr(unsafe.Pointer(&failedArea)) - areaOff)
		threadFailures.Add(1)
		return err
	}
	setThreadWord(uintptr(area) - areaOff)
	return nil
}

// errInCallback: a cgo callback does not register its thread.
var errInCallback = errors.New("rseq: not registering inside a cgo callback")

var errThreadFailed = unix.EPERM

// registerThread is the slow path of a section that found no registered
// area. It reports whether the thread is registered now (retry the
// section) or must use the fallback.
func registerThread() bool {
	runtime.LockOSThread()
	err := registerCurrent()
	runtime.UnlockOSThread()
	return err == nil
}

// areaPool hands out this library's own areas (regOwn): 128-byte
// slots (each on its own cache lines) in mmap'd chunks, off the Go heap. A
// slot goes back to the pool only when the thread that registered it is
// gone (tgkill says ESRCH), so the kernel can never write an area that has
// been handed to another thread.
type areaPool struct {
	mu    sync.Mutex
	free  []unsafe.Pointer
	owner map[unsafe.Pointer]owner
	pid   int
}

type owner struct{ pid, tid int }

const (
	areaSlot  = 128
	areaChunk = 64 << 10
)

var areas = areaPool{owner: map[unsafe.Pointer]owner{}}

func (p *areaPool) alloc() unsafe.Pointer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		p.reclaim()
	}
	if len(p.free) == 0 {
		mem, err := unix.Mmap(-1, 0, areaChunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			panic("rseq: cannot map thread areas: " + err.Error())
		}
		for off := len(mem) - areaSlot; off >= 0; off -= areaSlot {
			p.free = append(p.free, unsafe.Pointer(&mem[off]))
		}
	}
	a := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	clear(unsafe.Slice((*byte)(a), areaSlot)) // unregistered: ours to write
	p.owner[a] = owner{pid: unix.Getpid(), tid: gettid()}
	return a
}

func (p *areaPool) release(a unsafe.Pointer) {
	p.mu.Lock()
	delete(p.owner, a)
	p.free = append(p.free, a)
	p.mu.Unlock()
}

// reclaim returns to the free list the areas of threads that have exited.
// Areas registered by another process (before a fork) are never reclaimed:
// the thread that survived the fork keeps its registration under a new tid.
func (p *areaPool) reclaim() {
	pid := unix.Getpid()
	for a, o := range p.owner {
		if o.pid == pid && unix.Tgkill(pid, o.tid, 0) == unix.ESRCH {
			delete(p.owner, a)
			p.free = append(p.free, a)
		}
	}
}

// liveAreas returns how many areas are handed out (for tests).
func (p *areaPool) liveAreas() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.owner)
}
