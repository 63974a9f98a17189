//go:build linux && (amd64 || arm64) && !race

package rseq

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The delay build: go test -asmflags=-D=RSEQ_DELAY . assembles every
// section with a spin of sectionDelay+1 iterations just before its commit
// (DELAY in engine_linux_$GOARCH.s). The whole suite then runs with the
// window between a section's reads and its commit widened from a few
// cycles to GORSEQ_TEST_DELAY iterations (default 300), so preemption,
// signals and other CPUs land inside sections far more often. In normal
// builds the tests below skip, or fail where GORSEQ_TEST_DELAY is set
// (the run asked for a delay build and did not get one).

func init() {
	if !sectionDelayBuilt() {
		return
	}
	sectionDelay = 300
	if v := os.Getenv("GORSEQ_TEST_DELAY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			panic("GORSEQ_TEST_DELAY: want a count of spins, got " + v)
		}
		sectionDelay = n
	}
}

// needDelay skips unless the engine runs in a delay build, and sets the
// spin count for the test.
func needDelay(t *testing.T, spins int64) {
	t.Helper()
	if !sectionDelayBuilt() {
		if v := os.Getenv("GORSEQ_TEST_DELAY"); v != "" {
			t.Fatalf("GORSEQ_TEST_DELAY=%s asks for delayed sections, but this is not a delay build (go test -asmflags=-D=RSEQ_DELAY)", v)
		}
		t.Skip("not a delay build (go test -asmflags=-D=RSEQ_DELAY)")
	}
	requireEngine(t, "a delayed section")
	old := sectionDelay
	sectionDelay = spins
	t.Cleanup(func() { sectionDelay = old })
}

// TestDelayBuild: the delay build really delays sections (the aborts rate
// goes up under a signal storm), so a passing suite in that build means
// something.
func TestDelayBuild(t *testing.T) {
	needDelay(t, 20000)
	p := newTestPerCPU(t, 64, ByCPU)
	stop := signalStorm()
	before := aborts.Load()
	const n = 20000
	for range n {
		p.Add(Current, 0, 1)
	}
	stop()
	a := aborts.Load() - before
	t.Logf("%d aborts in %d delayed sections", a, n)
	if a == 0 {
		t.Fatal("no delayed section was aborted under a signal storm: is the delay in the section?")
	}
	if got := sum(p, 0); got != n {
		t.Fatalf("sum %d, want %d", got, n)
	}
}

// mixedLost runs sections and fallback operations on the same word at
// once, each fallback operation aiming at the block a section last
// committed on, for as long as the sections run; it returns how many
// updates went missing. The fallback operations are spaced out (a section
// that finds one running diverts to the fallback itself, and back to back
// they would divert every section).
func mixedLost(p *PerCPU, pairs, ops int) (lost, total uint64) {
	var hot, fbOps atomic.Int64
	var done atomic.Bool
	var sections, fallback sync.WaitGroup
	for range pairs {
		sections.Add(1)
		go func() {
			defer sections.Done()
			for range ops {
				_, at, _ := p.Add(Current, 0, 1)
				hot.Store(int64(at))
			}
		}()
		fallback.Add(1)
		go func() {
			defer fallback.Done()
			for !done.Load() {
				fbAdd(&p.s, int(hot.Load()), 0, 1)
				fbOps.Add(1)
				for range 5000 {
					if done.Load() {
						break
					}
				}
			}
		}()
	}
	sections.Wait()
	done.Store(true)
	fallback.Wait()
	total = uint64(pairs*ops) + uint64(fbOps.Load())
	return total - sum(p, 0), total
}

// TestDelayMixedPathsNeedFence proves that TestMixedPaths can fail: with
// the fallback's fence left out, sections that passed their divert check
// before a fallback operation began commit over its update. With the
// fence, nothing is lost.
func TestDelayMixedPathsNeedFence(t *testing.T) {
	needDelay(t, 20000)
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two CPUs running at once")
	}
	pairs, ops := runtime.GOMAXPROCS(0), 5000
	// Losing an update takes a section and a fallback operation running at
	// the same moment on two CPUs; on a busy machine that may take a few
	// rounds.
	fbSkipFence = true
	t.Cleanup(func() { fbSkipFence = false })
	var lost, total uint64
	deadline := time.Now().Add(20 * time.Second)
	for round := 1; ; round++ {
		l, n := mixedLost(newTestPerCPU(t, 64, ByCPU), pairs, ops)
		lost, total = lost+l, total+n
		if lost > 0 || time.Now().After(deadline) {
			t.Logf("without the fence: %d of %d updates lost (%d rounds)", lost, total, round)
			break
		}
	}
	fbSkipFence = false
	if lost == 0 {
		t.Error("no update was lost without the fence: the mixed-paths tests could not detect its absence")
	}
	lost, total = mixedLost(newTestPerCPU(t, 64, ByCPU), pairs, ops)
	t.Logf("with the fence: %d of %d updates lost", lost, total)
	if lost != 0 {
		t.Error("updates lost with the fence")
	}
}

// unarmedRun pins workers threads to one CPU, each adding 1 ops times to
// the same word of that CPU's block, while another goroutine sends SIGURG
// (Go's preemption signal, harmless) to those threads as fast as it can.
// Everything on one CPU: a worker preempted inside a section lets the
// others run on the same word, so a section that is not protected loses
// updates. It returns how many sections reached their commit with rseq_cs
// cleared (unarmedCommits) and how many updates went missing.
func unarmedRun(t *testing.T, workers, ops int) (unarmed, lost uint64) {
	t.Helper()
	var mask unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mask); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := range PossibleCPUs() {
		if mask.IsSet(c) {
			cpu = c
			break
		}
	}
	p := newTestPerCPU(t, 64, ByCPU)
	before := atomic.LoadUint64(&unarmedCommits)
	tids := make(chan int, workers)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The thread stays locked and exits with the goroutine,
			// taking its pinned affinity with it.
			runtime.LockOSThread()
			var one unix.CPUSet
			one.Set(cpu)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				failed.Store(err)
				tids <- 0
				return
			}
			tids <- unix.Gettid()
			for range ops {
				p.Add(Current, 0, 1)
			}
		}()
	}
	var ids []int
	for range workers {
		if id := <-tids; id != 0 {
			ids = append(ids, id)
		}
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("pinning to CPU %d: %v", cpu, err)
	}
	done := make(chan struct{})
	go func() {
		pid := unix.Getpid()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			unix.Tgkill(pid, ids[i%len(ids)], unix.SIGURG)
			for range 200 { // let the targets run between signals
			}
		}
	}()
	wg.Wait()
	close(done)
	unarmed = atomic.LoadUint64(&unarmedCommits) - before
	return unarmed, uint64(workers*ops) - p.Load(cpu, 0)
}

// TestUnarmedWindow: no section commits unprotected, and no update is
// lost, when threads sharing one CPU hammer one word while signals land on
// them. It proves the layout of issue 10 item 1: start_ip is the
// instruction right after the store that arms rseq_cs. In the gap build
// (go test -asmflags=-D=RSEQ_GAP ., a spin between that store and
// start_ip, which is what any instruction there amounts to), the kernel
// finds rseq_cs armed with the IP outside the section when a signal lands
// in the gap, clears it, and the section runs unprotected: there the test
// requires that it sees this happen (unarmed commits; lost updates when a
// preemption also lands inside such a section), so it is known to fail on
// the old layout.
func TestUnarmedWindow(t *testing.T) {
	needDelay(t, 20000)
	workers, ops := 4, scale(40000)
	unarmed, lost := unarmedRun(t, workers, ops)
	t.Logf("%d workers x %d adds on one CPU under SIGURG: %d sections committed unarmed, %d updates lost", workers, ops, unarmed, lost)
	if sectionGapBuilt() {
		if unarmed == 0 {
			t.Fatal("gap build: no section committed unarmed; the test cannot see the window it guards against")
		}
		t.Logf("gap build: the window is real (%d unarmed commits, %d lost updates)", unarmed, lost)
		return
	}
	if unarmed != 0 || lost != 0 {
		t.Fatalf("%d sections committed unprotected (rseq_cs cleared before the commit), %d updates lost", unarmed, lost)
	}
}
