package rseq

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// SharedCounter is a Counter that lives in a file or memfd mapped by
// several processes: each Add touches the word of the CPU the caller runs
// on, as a restartable sequence, whichever process it belongs to, and Load
// sums every CPU's word. See the notes on shared
// memory: every process must run the engine, and the file records the CPU
// count every process must have.
//
// All methods but Close are safe for concurrent use. Close must not run
// concurrently with another method, and every method called after Close
// panics. (Close keeps the mapping's addresses reserved, inaccessible,
// until the SharedCounter is unreachable, so even an Add that races with
// Close, a bug, faults rather than write into memory mapped there later.)
type SharedCounter struct {
	p         *PerCPU
	off       uintptr
	mem       slabMem
	clean     runtime.Cleanup
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// live panics if the counter was closed.
func (c *SharedCounter) live() {
	if c.closed.Load() {
		panic("rseq: SharedCounter used after Close")
	}
}

// OpenSharedCounter maps the shared counter in the file at path, creating
// the file (mode opts.Mode, 0600 by default) and the counter, at zero, if
// the file does not exist or is empty. It fails if this process does not
// run restartable sequences (an error matching ErrNotSupported), if the file holds
// something else or is too large, if it was made for another CPU count, if
// creating it finds the file system full (an error wrapping ENOSPC: the
// file's space is reserved when it is created, so a full tmpfs cannot fault
// a later Add), or if this process may run on a CPU the file has no block
// for.
//
// Hazard: another process that truncates the file makes every process
// that maps it fault (SIGBUS) at its next access. Keep the file in a
// directory only trusted processes can write, or use a memfd
// (NewSharedMemfd, OpenSharedCounterFile), which is sealed against
// resizing.
func OpenSharedCounter(path string, opts *SharedOptions) (*SharedCounter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, opts.mode())
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	return OpenSharedCounterFile(f)
}

// OpenSharedCounterFile is OpenSharedCounter on an open file, such as a
// memfd from NewSharedMemfd. f stays the caller's to close.
func OpenSharedCounterFile(f *os.File) (*SharedCounter, error) {
	mem, l, err := mapShared(f, newSharedLayout(sharedCounterKind, 0, 0))
	if err != nil {
		return nil, err
	}
	p, err := NewPerCPU(unsafe.Add(mem.base, l.dataOff), uintptr(l.stride), l.cpus, ByCPU)
	if err != nil {
		mem.unmap()
		return nil, err
	}
	c := &SharedCounter{p: p, off: uintptr(l.objOff), mem: mem}
	c.clean = runtime.AddCleanup(c, func(m slabMem) { m.unmap() }, mem)
	return c, nil
}

// Add adds delta to the counter. It panics if the calling thread cannot
// register for restartable sequences (the fallback would race with the
// other processes), or runs on a CPU the file has no block for.
func (c *SharedCounter) Add(delta int64) {
	c.live()
	if err := c.p.strictAdd(c.off, delta); err != nil {
		panic(c.why(err))
	}
	runtime.KeepAlive(c)
}

// why explains a failed update: the engine reports a CPU number past the
// blocks as an unregistered thread, which would mislead.
func (c *SharedCounter) why(err error) error {
	if cpu := CPU(); cpu >= c.p.Len() {
		return errCPUOutside(cpu, c.p.Len())
	}
	return err
}

// Inc adds 1 to the counter.
func (c *SharedCounter) Inc() { c.Add(1) }

// Dec subtracts 1 from the counter.
func (c *SharedCounter) Dec() { c.Add(-1) }

// Load returns the sum of every CPU's word; like Counter.Load it is not a
// snapshot while Adds run, in any process.
func (c *SharedCounter) Load() int64 {
	c.live()
	var s int64
	for cpu := 0; cpu < c.p.Len(); cpu++ {
		s += int64(c.p.Load(cpu, c.off))
	}
	runtime.KeepAlive(c)
	return s
}

// String returns Load in decimal: SharedCounter is an expvar.Var.
func (c *SharedCounter) String() string { return strconv.FormatInt(c.Load(), 10) }

// Close stops mapping the file in this process; the file and the other
// processes' mappings stay. It must not run concurrently with another
// method; every method called afterwards panics. Closing twice does
// nothing.
func (c *SharedCounter) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.mem.retire() // the cleanup unmaps the reservation
	})
	return c.closeErr
}
