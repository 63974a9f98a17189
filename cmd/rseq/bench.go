package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/rseq"
)

const benchHelp = `usage: rseq bench [flags]
       rseq bench kernel [-rounds N] [-n N]

What per-CPU data buys on this machine, in two sections.

The counter comparison (-goroutines, -ops): rseq.Counter.Add against one
shared atomic.Int64, many goroutines adding at once.

The kernel's workloads (-threads, -reps, -workloads, -json, -pin): the five
benchmarks of the Linux kernel's tools/testing/selftests/rseq/param_test.c
(built with -DBENCHMARK: param_test_benchmark -T LETTER -t THREADS -r REPS),
each done with this package and the usual Go way, so that the table can be
put beside the C program's numbers from the same machine:

  workload   T  rseq                                usual Go
  increment  i  PerCPU.Add of 1 to a per-CPU word   atomic.Int64.Add, one word
  spinlock   s  Locks.Lock, count++ on that lock's  sync.Mutex around one
                plain counter, Locks.Unlock         counter
  list       l  FreeList.Get + Put of a handle      sync.Pool.Get + Put
  buffer     b  PerCPU.Pop + Push of a handle on    receive + send on a
                per-CPU arrays                      buffered chan of handles
  memcpy     m  pop of a 16-byte record from a      receive + send on a
                per-CPU array, push of it back      buffered chan of records

The memcpy push is one section (PerCPU.CopyAndStore: copy into the free
slot, commit the count), as in C. The package has no section that copies
out, so the pop reads the top record, then commits the smaller count with
PerCPU.CompareAndSwap expecting the word it read; every commit also bumps a
version in that word, so the pop commits only if nothing changed the array
since the read.

As in param_test, list, buffer and memcpy start with 100 items per possible
CPU (fewer past 40 CPUs: 4096 in all) and arrays with room for all of them;
a pop that finds its CPU's array empty counts as a rep without a push (the
misses line says how many). THREADS goroutines (GOMAXPROCS as it is; -pin
locks each to an OS thread) run REPS reps each, all at once, and their wall
time gives
  ns/op       wall / (THREADS x REPS); for the C program, its wall time
              (time(1)) divided by -t x -r
  core-ns/op  ns/op x the cores kept busy, min(THREADS, GOMAXPROCS, CPUs):
              the CPU time one op costs
and Go/rseq is the usual way's ns/op over this package's (above 1: rseq is
faster). Each side runs -rounds times, interleaved, and the median is shown.
After every round the results are checked as param_test checks them: the
counters add up to THREADS x REPS x rounds, every handle and record is
still there exactly once and every record intact (sync.Pool excepted: it
may drop items). A violation is an error (exit status 1).

Without flags both sections run. Counter flags select the counter
comparison, workload flags the workloads; -rounds applies to both.
"bench kernel" measures the kernel's side instead (bench kernel -h).

Flags:
`

func runBench(args []string) error {
	if len(args) > 0 && args[0] == "kernel" {
		return runBenchKernel(args[1:])
	}
	return benchMain(args, os.Stdout)
}

// benchMain is the bench command without the kernel subcommand.
func benchMain(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchHelp)
		fs.PrintDefaults()
	}
	goroutines := fs.Int("goroutines", 4*runtime.GOMAXPROCS(0), "counter comparison: goroutines adding at once")
	ops := fs.Int("ops", 5_000_000, "counter comparison: additions per goroutine in each round")
	rounds := fs.Int("rounds", 5, "rounds per contender (the median is reported)")
	var o workOpts
	fs.IntVar(&o.Threads, "threads", runtime.GOMAXPROCS(0), "workloads: goroutines at once (param_test -t)")
	fs.IntVar(&o.Reps, "reps", 1_000_000, "workloads: reps per goroutine in each round (param_test -r)")
	workloads := fs.String("workloads", "all", "workloads, comma-separated names or param_test letters (i,s,l,b,m), or all")
	fs.BoolVar(&o.Pin, "pin", false, "workloads: lock each goroutine to its own OS thread (runtime.LockOSThread)")
	asJSON := fs.Bool("json", false, "workloads: one JSON object per workload instead of the table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q (subcommand: kernel)", fs.Args())
	}
	counterFlags, workFlags := false, false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "goroutines", "ops":
			counterFlags = true
		case "threads", "reps", "workloads", "pin", "json":
			workFlags = true
		}
	})
	if *rounds < 1 {
		return errors.New("bench: -rounds must be positive")
	}
	o.Rounds = *rounds
	if counterFlags && *asJSON {
		return errors.New("bench: -json is for the workloads; the counter comparison (-goroutines, -ops) prints text only")
	}
	runCounter := counterFlags || !workFlags
	runWork := workFlags || !counterFlags
	var ws []*workload
	if runWork {
		var err error
		if ws, err = selectWorkloads(*workloads); err != nil {
			return err
		}
		if o.Threads < 1 || o.Reps < 1 {
			return errors.New("bench: -threads and -reps must be positive")
		}
	}
	if runCounter {
		if err := benchCounter(out, *goroutines, *ops, *rounds); err != nil {
			return err
		}
	}
	if runWork {
		if runCounter {
			fmt.Fprintln(out)
		}
		return benchWorkloads(out, ws, o, *asJSON)
	}
	return nil
}

// benchCounter is the counter comparison: rseq.Counter.Add against a
// shared atomic counter.
func benchCounter(out io.Writer, goroutines, ops, rounds int) error {
	if goroutines < 1 || ops < 1 || rounds < 1 {
		return fmt.Errorf("bench: -goroutines, -ops and -rounds must be positive")
	}
	fmt.Fprintf(out, "per-CPU counter vs shared atomic: %d goroutines x %d adds, GOMAXPROCS %d, %s\n",
		goroutines, ops, runtime.GOMAXPROCS(0), enginePath())

	c := rseq.NewCounter()
	defer c.Close()
	var shared atomic.Int64
	contenders := []struct {
		name string
		add  func()
		load func() int64
	}{
		{"rseq.Counter.Add", func() { c.Add(1) }, c.Load},
		{"atomic.AddInt64 (shared)", func() { shared.Add(1) }, shared.Load},
	}
	ns := make([]float64, len(contenders))
	// Interleave the contenders round by round so that machine noise hits
	// both alike; report the median of each.
	times := make([][]float64, len(contenders))
	for r := 0; r < rounds; r++ {
		for i, k := range contenders {
			before := k.load()
			d := run(goroutines, ops, k.add)
			if got, want := k.load()-before, int64(goroutines)*int64(ops); got != want {
				return fmt.Errorf("%s: counted %d, want %d", k.name, got, want)
			}
			times[i] = append(times[i], float64(d.Nanoseconds())/float64(goroutines*ops))
		}
	}
	fmt.Fprintf(out, "%-26s %12s %18s\n", "", "ns/op", "ns/op per core")
	for i, k := range contenders {
		sort.Float64s(times[i])
		ns[i] = times[i][len(times[i])/2]
		fmt.Fprintf(out, "%-26s %12.2f %18.2f\n", k.name, ns[i], ns[i]*float64(runtime.GOMAXPROCS(0)))
	}
	fmt.Fprintf(out, "ratio (shared atomic / per-CPU): %.2fx\n", ns[1]/ns[0])
	return nil
}

// enginePath says whether operations run as restartable sequences or on
// the fallback, and why.
func enginePath() string {
	if in := rseq.ReadInfo(); !in.Usable {
		return "fallback: " + in.Reason.String()
	}
	return "rseq"
}

// run times goroutines each calling add ops times.
func run(goroutines, ops int, add func()) time.Duration {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < ops; i++ {
				add()
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	return time.Since(t0)
}
