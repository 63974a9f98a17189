//go:build linux

// Package kbench measures what an rseq registration costs the kernel's
// return to user space: a cheap system call, and two threads ping-ponging
// on one CPU (sched_yield, futex), each with the threads unregistered,
// registered for legacy mode (32 bytes) and registered for the optimized V2
// mode (the kernel's feature size, Linux 7.0+). It is the measurement
// behind the Linux 6.19 rseq rework.
//
// It registers areas itself with the raw system call, so it must run in a
// process where nothing else registers the threads it uses: the rseq
// package's command runs it in a child with GORSEQ=off and
// GLIBC_TUNABLES=glibc.pthread.rseq=0.
package kbench

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gorseq/rseq/internal/abi"
	"golang.org/x/sys/unix"
)

// Modes returns the states this kernel offers: unregistered, legacy, and
// V2 when the kernel's feature size calls for a longer registration.
func Modes() []Mode {
	ms := []Mode{{"unregistered", 0}, {"legacy (32 B)", abi.OrigAreaSize}}
	fs, align := abi.Auxv()
	if n := abi.RegistrationLength(fs, align, areaSize); n > abi.OrigAreaSize {
		ms = append(ms, Mode{fmt.Sprintf("V2 (%d B)", n), n})
	}
	return ms
}

// areaSize is the room each registered area gets.
const areaSize = 256

const sig = abi.SigAMD64 // any signature: these threads run no sections

var (
	areaMu sync.Mutex
	areas  []byte
)

// register registers the calling (locked) thread with a fresh area of the
// given length. The areas are never reused: the threads that own them
// exit when the measurement ends.
func register(length int) error {
	if length == 0 {
		return nil
	}
	areaMu.Lock()
	if len(areas) < areaSize {
		m, err := unix.Mmap(-1, 0, 1<<16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			areaMu.Unlock()
			return err
		}
		areas = m
	}
	a := areas[:areaSize]
	areas = areas[areaSize:]
	areaMu.Unlock()
	*(*uint32)(unsafe.Pointer(&a[abi.OffCPUID])) = abi.CPUIDUnset // before registering
	if e := abi.Register(unsafe.Pointer(&a[0]), length, 0, sig); e != 0 {
		return fmt.Errorf("rseq(%d bytes): %w", length, e)
	}
	return nil
}

// onThread runs f on a fresh thread registered in mode m and pinned to
// cpu (cpu < 0: not pinned). The thread exits afterwards.
func onThread(m Mode, cpu int, f func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread (and its registration) dies with us
		if cpu >= 0 {
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				errc <- err
				return
			}
		}
		if err := register(m.Len); err != nil {
			errc <- err
			return
		}
		f()
		errc <- nil
	}()
	return <-errc
}

// Syscall returns ns per getppid(2) on a thread in mode m.
func Syscall(m Mode, n int) (float64, error) {
	var d time.Duration
	err := onThread(m, -1, func() {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		d = time.Since(t0)
	})
	return float64(d.Nanoseconds()) / float64(n), err
}

// Yield returns ns per switch of two threads in mode m, pinned to one CPU,
// each calling sched_yield n times.
func Yield(m Mode, n int) (float64, error) {
	return pair(m, n, func(self, other *uint32) {
		for i := 0; i < n; i++ {
			unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	})
}

// Futex returns ns per switch of two threads in mode m, pinned to one
// CPU, handing a token back and forth n times with futex wait and wake.
func Futex(m Mode, n int) (float64, error) {
	return pair(m, n, func(self, other *uint32) {
		for i := 0; i < n; i++ {
			for atomic.LoadUint32(self) == 0 { // wait for the token
				futex(self, futexWait, 0)
			}
			atomic.StoreUint32(self, 0)
			atomic.StoreUint32(other, 1) // hand it over
			futex(other, futexWake, 1)
		}
	})
}

// pair runs body on two threads pinned to the same CPU; the first thread
// holds the token at the start. It returns ns per switch (2n switches).
func pair(m Mode, n int, body func(self, other *uint32)) (float64, error) {
	var words [32]uint32 // two words on separate cache lines
	a, b := &words[0], &words[16]
	*a = 1
	var wg sync.WaitGroup
	var errs [2]error
	start := make(chan struct{})
	for i, w := range [][2]*uint32{{a, b}, {b, a}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = onThread(m, 0, func() {
				<-start
				body(w[0], w[1])
			})
		}()
	}
	time.Sleep(10 * time.Millisecond) // both threads pinned and registered
	t0 := time.Now()
	close(start)
	wg.Wait()
	d := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(d.Nanoseconds()) / float64(2*n), nil
}

const (
	futexWait = 0 | 128 // FUTEX_WAIT_PRIVATE
	futexWake = 1 | 128 // FUTEX_WAKE_PRIVATE
)

func futex(addr *uint32, op int, val uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), 0, 0, 0)
}
