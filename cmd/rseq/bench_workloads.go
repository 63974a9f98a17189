package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/internal/hooks"
)

// The kernel's param_test benchmarks (tools/testing/selftests/rseq), each
// done with this package and the usual Go way. Every side keeps its state
// across the rounds of a run and is checked after each round, as
// param_test checks its data at the end: a benchmark that miscounts fails.

// workOpts is one run of the workloads.
type workOpts struct {
	Threads int  // goroutines at once (param_test -t)
	Reps    int  // reps per goroutine in each round (param_test -r)
	Rounds  int  // rounds per side, interleaved
	Pin     bool // each goroutine locked to an OS thread
}

// workload is one of param_test's benchmarks, both ways.
type workload struct {
	name   string // param_test's name for it
	letter string // param_test -T
	rseq   workSide
	goway  workSide
}

// workSide is one way of doing a workload.
type workSide struct {
	name  string // for the table
	setup func(o workOpts) (*workInstance, error)
}

// workInstance is one side of a workload, set up for a run.
type workInstance struct {
	// loop runs reps reps for goroutine g and returns its misses: pops
	// that found the CPU's array empty (and so pushed nothing), or for
	// sync.Pool, Gets that found the pool empty (and allocated).
	loop func(g, reps int) int64
	// check verifies the state after round rounds (1, 2, ...), with no
	// goroutine running.
	check func(rounds int) error
	// fault does one wrong step, as a broken implementation would: tests
	// call it between a round and its check to prove the check fails. Nil
	// where there is nothing to check (sync.Pool drops items by design).
	fault func()
	close func()
}

// benchFault names a side ("buffer/rseq", "memcpy/go") whose fault runs
// after its first round. Only tests set it.
var benchFault string

var workloads = []*workload{
	{"increment", "i",
		workSide{"PerCPU.Add", incRseq},
		workSide{"atomic.Int64.Add, shared", incGo}},
	{"spinlock", "s",
		workSide{"Locks + count++", lockRseq},
		workSide{"sync.Mutex + count++", lockGo}},
	{"list", "l",
		workSide{"FreeList Get+Put", listRseq},
		workSide{"sync.Pool Get+Put", listGo}},
	{"buffer", "b",
		workSide{"PerCPU Pop+Push", bufRseq},
		workSide{"chan handle recv+send", bufGo}},
	{"memcpy", "m",
		workSide{"16 B read+CAS, CopyAndStore", memRseq},
		workSide{"chan 16 B recv+send", memGo}},
}

// selectWorkloads parses -workloads: names or letters, comma-separated, or
// all.
func selectWorkloads(spec string) ([]*workload, error) {
	if spec == "all" {
		return workloads, nil
	}
	var ws []*workload
	seen := map[*workload]bool{}
	for _, name := range strings.Split(spec, ",") {
		var found *workload
		for _, w := range workloads {
			if name == w.name || name == w.letter {
				found = w
			}
		}
		if found == nil {
			var names []string
			for _, w := range workloads {
				names = append(names, w.name)
			}
			return nil, fmt.Errorf("bench: unknown workload %q (want %s, their param_test letters, or all)", name, strings.Join(names, ", "))
		}
		if !seen[found] {
			seen[found] = true
			ws = append(ws, found)
		}
	}
	return ws, nil
}

// workResult is one workload's outcome (one JSON object with -json).
type workResult struct {
	Workload   string     `json:"workload"`
	ParamTest  string     `json:"param_test"` // the C command's flags for the same run
	Threads    int        `json:"threads"`
	Reps       int        `json:"reps"`
	Rounds     int        `json:"rounds"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	Cores      int        `json:"cores"` // min(threads, GOMAXPROCS, CPUs): core-ns/op = ns/op x cores
	Pinned     bool       `json:"pinned"`
	Engine     string     `json:"engine"`
	Rseq       sideResult `json:"rseq"`
	Go         sideResult `json:"go"`
	Ratio      float64    `json:"go_over_rseq"`
}

// sideResult is one side's numbers.
type sideResult struct {
	Name        string    `json:"name"`
	NsPerOp     float64   `json:"ns_per_op"` // median of the rounds: wall / (threads x reps)
	CoreNsPerOp float64   `json:"core_ns_per_op"`
	Rounds      []float64 `json:"ns_per_op_rounds"` // in the order run
	Misses      int64     `json:"misses"`           // empty pops, or sync.Pool allocations, all rounds
	Aborts      uint64    `json:"aborts,omitempty"` // critical sections the kernel aborted (rseq side)
}

// cores is the number of cores a run keeps busy.
func (o workOpts) cores() int {
	return min(o.Threads, runtime.GOMAXPROCS(0), runtime.NumCPU())
}

// want is the number of reps of rounds rounds.
func (o workOpts) want(rounds int) int64 {
	return int64(o.Threads) * int64(o.Reps) * int64(rounds)
}

// benchWorkloads runs ws and prints the table or the JSON objects.
func benchWorkloads(out io.Writer, ws []*workload, o workOpts, asJSON bool) error {
	var res []workResult
	var row tableRow
	if !asJSON {
		fmt.Fprintf(out, "rseq bench: the kernel's rseq param_test workloads, %s x %d reps, median of %s\n",
			count(o.Threads, "thread"), o.Reps, count(o.Rounds, "round"))
		pin := "not pinned"
		if o.Pin {
			pin = "each locked to an OS thread"
		}
		fmt.Fprintf(out, "GOMAXPROCS %d, %d CPUs, %d possible, %s, goroutines %s\n",
			runtime.GOMAXPROCS(0), runtime.NumCPU(), rseq.PossibleCPUs(), enginePath(), pin)
		fmt.Fprintf(out, "ns/op = wall / (threads x reps); in C: time param_test_benchmark -T <T> -t %d -r %d, divided alike\n",
			o.Threads, o.Reps)
		fmt.Fprintf(out, "core-ns/op = ns/op x %s; Go/rseq above 1: rseq faster\n\n", count(o.cores(), "busy core"))
		row = rowFormat(ws)
		fmt.Fprintf(out, row.text, "workload", "T", "rseq", "ns/op", "core-ns/op", "usual Go", "ns/op", "core-ns/op", "Go/rseq")
	}
	for _, w := range ws {
		r, err := measure(w, o)
		if err != nil {
			return err
		}
		if asJSON {
			if err := json.NewEncoder(out).Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(out, row.nums, w.name, w.letter,
			r.Rseq.Name, r.Rseq.NsPerOp, r.Rseq.CoreNsPerOp, r.Go.Name, r.Go.NsPerOp, r.Go.CoreNsPerOp, r.Ratio)
		res = append(res, r)
	}
	if asJSON {
		return nil
	}
	var notes []string
	for _, r := range res {
		if r.Rseq.Misses > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d pops found their CPU's array empty (rseq)", r.Workload, r.Rseq.Misses))
		}
		if r.Go.Misses > 0 {
			notes = append(notes, fmt.Sprintf("%s: sync.Pool was empty %d times and allocated (Go)", r.Workload, r.Go.Misses))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(out, "misses (each counted as a rep, as in param_test): %s\n", strings.Join(notes, "; "))
	}
	fmt.Fprintln(out, "every round checked: counts exact, every handle and record there once and intact")
	return nil
}

// count says "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// tableRow is the table's line formats: names left-aligned, numbers right.
type tableRow struct{ text, nums string }

// rowFormat fits the name columns to the workloads' names.
func rowFormat(ws []*workload) tableRow {
	wr, wg := len("rseq"), len("usual Go")
	for _, w := range ws {
		wr, wg = max(wr, len(w.rseq.name)), max(wg, len(w.goway.name))
	}
	return tableRow{
		text: fmt.Sprintf("%%-9s  %%-1s  %%-%ds  %%8s  %%10s  %%-%ds  %%8s  %%10s  %%8s\n", wr, wg),
		nums: fmt.Sprintf("%%-9s  %%-1s  %%-%ds  %%8.2f  %%10.2f  %%-%ds  %%8.2f  %%10.2f  %%7.2fx\n", wr, wg),
	}
}

// measure runs both sides of w for o.Rounds rounds, interleaved, checking
// each after every round.
func measure(w *workload, o workOpts) (workResult, error) {
	sides := [2]workSide{w.rseq, w.goway}
	keys := [2]string{"rseq", "go"}
	var inst [2]*workInstance
	for i, s := range sides {
		in, err := s.setup(o)
		if err != nil {
			return workResult{}, fmt.Errorf("bench %s (%s): setup: %w", w.name, s.name, err)
		}
		defer in.close()
		inst[i] = in
	}
	var times [2][]float64
	var misses [2]int64
	var aborts uint64
	for r := 1; r <= o.Rounds; r++ {
		for i, in := range inst {
			runtime.GC() // the garbage of setup and of the other side is not this side's
			a := hooks.Aborts()
			d, m := timeLoop(o, in.loop)
			if i == 0 {
				aborts += hooks.Aborts() - a
			}
			misses[i] += m
			if r == 1 && benchFault == w.name+"/"+keys[i] && in.fault != nil {
				in.fault()
			}
			if err := in.check(r); err != nil {
				return workResult{}, fmt.Errorf("bench %s (%s), round %d: %w", w.name, sides[i].name, r, err)
			}
			times[i] = append(times[i], float64(d.Nanoseconds())/float64(o.want(1)))
		}
	}
	res := workResult{
		Workload: w.name, ParamTest: fmt.Sprintf("-T %s -t %d -r %d", w.letter, o.Threads, o.Reps),
		Threads: o.Threads, Reps: o.Reps, Rounds: o.Rounds, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Cores: o.cores(), Pinned: o.Pin, Engine: enginePath(),
	}
	for i, sr := range [2]*sideResult{&res.Rseq, &res.Go} {
		sorted := append([]float64(nil), times[i]...)
		sort.Float64s(sorted)
		*sr = sideResult{Name: sides[i].name, NsPerOp: sorted[len(sorted)/2], Rounds: times[i], Misses: misses[i]}
		sr.CoreNsPerOp = sr.NsPerOp * float64(res.Cores)
	}
	res.Rseq.Aborts = aborts
	res.Ratio = res.Go.NsPerOp / res.Rseq.NsPerOp
	return res, nil
}

// timeLoop starts o.Threads goroutines, waits until all are ready (and
// pinned, with -pin), lets them run loop at once and returns the wall time
// until the last finished, and their misses.
func timeLoop(o workOpts, loop func(g, reps int) int64) (time.Duration, int64) {
	var ready, done sync.WaitGroup
	var misses atomic.Int64
	start := make(chan struct{})
	for g := 0; g < o.Threads; g++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			if o.Pin {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			ready.Done()
			<-start
			misses.Add(loop(g, o.Reps))
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return time.Since(t0), misses.Load()
}

// countCheck compares a count with the reps of rounds rounds.
func countCheck(what string, got int64, o workOpts, rounds int) error {
	if want := o.want(rounds); got != want {
		return fmt.Errorf("%s: %d, want %d (threads x reps x rounds; %d lost)", what, got, want, want-got)
	}
	return nil
}

// onceEach checks that got holds each of 0..n-1 exactly once.
func onceEach(what string, got []uint64, n int) error {
	seen := make([]int, n)
	for _, v := range got {
		if v >= uint64(n) {
			return fmt.Errorf("%s %d found, outside [0, %d)", what, v, n)
		}
		seen[v]++
	}
	for v, c := range seen {
		if c != 1 {
			return fmt.Errorf("%s %d found %d times, want once (%d of %d found in all)", what, v, c, len(got), n)
		}
	}
	return nil
}
