package rseq

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestThreadsExit: goroutines that lock their thread and return make the
// runtime kill the thread. The library must keep working, and in pure-Go
// mode the areas of dead threads must be reused, not leaked.
func TestThreadsExit(t *testing.T) {
	p := newTestPerCPU(t, 64, ByCPU)
	const threads = 1500
	for i := 0; i < threads; i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			p.Add(Current, 0, 1)
		}()
		<-done
	}
	if got := sum(p, 0); got != threads {
		t.Fatalf("sum %d, want %d", got, threads)
	}
	if mode == regOwn && engineOn {
		// Each chunk holds 512 areas; without reuse 1500 exits would need 3.
		if live := areas.liveAreas(); live > 2*areaChunk/areaSlot {
			t.Fatalf("%d areas handed out after %d thread exits: dead threads' areas are not reused", live, threads)
		}
		t.Logf("areas handed out: %d", areas.liveAreas())
	}
	if f := threadFailures.Load(); f != 0 {
		t.Fatalf("%d threads failed to register", f)
	}
}

// TestGOMAXPROCSChanges flips GOMAXPROCS while goroutines add.
func TestGOMAXPROCSChanges(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	p := newTestPerCPU(t, 64, ByCPU)
	stop := make(chan struct{})
	var flips sync.WaitGroup
	flips.Add(1)
	go func() {
		defer flips.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			runtime.GOMAXPROCS(1 + i%5)
			time.Sleep(time.Millisecond)
		}
	}()
	ops := opsPerGoroutine() / 10
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ops; i++ {
				p.Add(Current, 0, 1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	flips.Wait()
	if got, want := sum(p, 0), uint64(8*ops); got != want {
		t.Fatalf("sum %d, want %d", got, want)
	}
}

// TestAffinity narrows the thread to one CPU: CPU(), NodeID() and the
// index operations report must agree with the kernel's getcpu.
func TestAffinity(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Skipf("sched_getaffinity: %v", err)
	}
	defer unix.SchedSetaffinity(0, &old)
	p := newTestPerCPU(t, 64, ByCPU)
	for cpu := 0; cpu < PossibleCPUs(); cpu++ {
		if !old.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatalf("sched_setaffinity(%d): %v", cpu, err)
		}
		kcpu, knode := getcpu()
		if kcpu != cpu {
			t.Fatalf("getcpu says %d on a thread bound to %d", kcpu, cpu)
		}
		if c := CPU(); c != cpu {
			t.Errorf("CPU() = %d on a thread bound to %d", c, cpu)
		}
		if n := NodeID(); n != knode {
			t.Errorf("NodeID() = %d, getcpu says %d", n, knode)
		}
		if _, at, _ := p.Add(Current, 0, 1); at != cpu && engineOn {
			t.Errorf("Add ran at index %d on a thread bound to %d", at, cpu)
		}
		// An explicit other index must be refused, and write nothing.
		other := (cpu + 1) % p.Len()
		if engineOn && other != cpu {
			before := p.Load(other, 8)
			if _, _, r := p.CompareAndSwap(other, 8, before, before+1); r != NotOnCPU {
				t.Errorf("CompareAndSwap on index %d from CPU %d: %v, want NotOnCPU", other, cpu, r)
			}
			if p.Load(other, 8) != before {
				t.Errorf("a refused CompareAndSwap wrote")
			}
		}
		if id := ConcurrencyID(); info.ConcurrencyID && engineOn && (id < 0 || id >= PossibleCPUs()) {
			t.Errorf("ConcurrencyID() = %d", id)
		} else if !(info.ConcurrencyID && engineOn) && id != -1 {
			t.Errorf("ConcurrencyID() = %d where mm_cid is not available", id)
		}
	}
}

// TestForkExec starts child processes while sections run; the children and
// the parent must be fine.
func TestForkExec(t *testing.T) {
	p := newTestPerCPU(t, 64, ByCPU)
	var stop atomic.Bool
	var adds atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p.Add(Current, 0, 1)
				adds.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		out, err := exec.Command(os.Args[0], "-test.run=^TestChildInfo$", "-test.v").CombinedOutput()
		if err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("child: %v\n%s", err, out)
		}
	}
	stop.Store(true)
	wg.Wait()
	if got := sum(p, 0); got != uint64(adds.Load()) {
		t.Fatalf("sum %d, want %d", got, adds.Load())
	}
}

// TestChildInfo is the child of TestForkExec: it runs a few operations.
func TestChildInfo(t *testing.T) {
	p := newTestPerCPU(t, 64, ByCPU)
	for i := 0; i < 1000; i++ {
		p.Add(Current, 0, 1)
	}
	if got := sum(p, 0); got != 1000 {
		t.Fatalf("sum %d", got)
	}
}
