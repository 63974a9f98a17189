package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/rseq"
	"github.com/gorseq/rseq/internal/hooks"
)

const stressHelp = `usage: rseq stress [flags]

A torture test of the per-CPU primitives and structures, in the spirit of
the Linux kernel's tools/testing/selftests/rseq/param_test.c: many goroutines
hammer one structure while yields, signals, sleeps and delays widen the
windows in which a goroutine can be preempted or migrated; at the end (and
for some types all along) an invariant is checked. Any violation is named
and the command exits with status 1.

Types (-type, comma-separated, or all):
  spinlock     rseq.Locks, one per CPU, protecting a plain (non-atomic)
               per-lock counter: the counters must add up to the locks taken,
               and no lock may be found held by someone else
  list         rseq.FreeList of unique handles (Get, then Put): no handle is
               held twice at once, and at the end every handle is free once
  buffer       PerCPU.Push and Pop on per-CPU arrays of unique handles, with
               Current or an explicit index: same invariants
  copy-buffer  PerCPU.CopyAndStore of checksummed 64-byte records into
               per-CPU logs: every record intact (but the slot the next copy
               targets, which an aborted copy may have written), the
               sequences add up to the commits
  increment    PerCPU.Add (Current and explicit index) and rseq.Counter: the
               sums are exact
  fence        workers add to one of two per-CPU counter sets with
               CompareAndSwapGuarded, guarded by a shared "active set" word; a
               manager switches the word, calls FenceAll, then reads the
               inactive set twice, some time apart: any change is a violation;
               at the end each set adds up to its commits

Where the delays go (-delay-points, -delay N busy loops). A critical section
is a few instructions of assembly and cannot be slowed from Go, so the delays
sit where a goroutine holds state the kernel's restart does not protect:
  index   between reading the CPU (or concurrency id) and the values, and the
          operation with that explicit index: the goroutine may migrate, so
          NotOnCPU and failed compares must be handled (buffer, copy-buffer,
          increment, fence)
  lock    while holding a per-CPU lock (spinlock)
  pair    between taking a handle and giving it back (list, buffer)
The kernel's param_test also delays inside the sections (its loops sit
between the section's loads and its commit); that is not possible here, but
every section is still interrupted by -signal, by preemption and by the Go
runtime's own signals, and the abort count shows it happened.

-yield N, -signal N, -sleep N act after every N-th operation of each
goroutine: runtime.Gosched; SIGUSR1 (drained by a signal.Notify handler)
sent on Linux with tgkill to the thread another goroutine last ran on, so
that it lands where a section may be running (a signal sent to the whole
process goes to the sender, which sits in the system call), and to the
process on other systems; a sleep of -sleep-for.

-fallback-share F runs that fraction of the goroutines on the structures'
fallback views (rseq.PerCPU.Fallback, Locks.Fallback, FreeList.Fallback):
lock-based operations mixed with the other goroutines' critical sections on
the same memory.

Presets run a grid and ignore -type and the perturbation flags: quick (every
type, the default and one perturbed run each, CI, under 20 s) and full (every
type x default, a delay at each point, yield/signal/sleep at several
frequencies, fallback share 0 and 0.25, both index modes; about 3 minutes).
Each run stops at -duration (a preset sets it per run) or after -reps
operations per goroutine, whichever comes first; the invariants are checked
either way.

Flags:
`

// stressOpts is one run's configuration.
type stressOpts struct {
	Type          string        `json:"type"`
	Goroutines    int           `json:"goroutines"`
	Reps          int           `json:"reps"`
	DelayPoints   string        `json:"delay_points,omitempty"`
	Delay         int           `json:"delay,omitempty"`
	Yield         int           `json:"yield,omitempty"`
	Signal        int           `json:"signal,omitempty"`
	Sleep         int           `json:"sleep,omitempty"`
	SleepFor      time.Duration `json:"sleep_for_ns,omitempty"`
	FallbackShare float64       `json:"fallback_share"`
	Index         string        `json:"index"`
	Duration      time.Duration `json:"duration_ns,omitempty"`

	broken bool // tests only: a deliberately wrong variant that must be caught
}

func (o stressOpts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s index=%s fallback=%g g=%d", o.Type, o.Index, o.FallbackShare, o.Goroutines)
	if o.DelayPoints != "" {
		fmt.Fprintf(&b, " delay=%s:%d", o.DelayPoints, o.Delay)
	}
	if o.Yield > 0 {
		fmt.Fprintf(&b, " yield=%d", o.Yield)
	}
	if o.Signal > 0 {
		fmt.Fprintf(&b, " signal=%d", o.Signal)
	}
	if o.Sleep > 0 {
		fmt.Fprintf(&b, " sleep=%d", o.Sleep)
	}
	if o.broken {
		b.WriteString(" BROKEN")
	}
	return b.String()
}

// stressResult is one run's outcome (one JSON object with -json).
type stressResult struct {
	Type       string           `json:"type"`
	Options    stressOpts       `json:"options"`
	Engine     string           `json:"engine"`
	Ops        int64            `json:"ops"`
	Aborts     uint64           `json:"aborts"`
	NotOnCPU   int64            `json:"not_on_cpu"`
	Retries    int64            `json:"retries"`
	Stopped    bool             `json:"stopped_at_duration"`
	Violations []string         `json:"violations"`
	Count      int              `json:"violation_count"`
	Notes      map[string]int64 `json:"notes,omitempty"`
	Seconds    float64          `json:"seconds"`
}

// forceBroken makes every run use its deliberately wrong variant (where a
// type has one: increment). Only tests set it, to prove the checks fail.
var forceBroken bool

var stressTypes = []string{"spinlock", "list", "buffer", "copy-buffer", "increment", "fence"}

// delayPointsOf lists the delay points that mean something for a type.
func delayPointsOf(typ string) []string {
	switch typ {
	case "spinlock":
		return []string{"lock"}
	case "list":
		return []string{"pair"}
	case "buffer":
		return []string{"index", "pair"}
	}
	return []string{"index"}
}

func runStress(args []string) error {
	return stressMain(args, os.Stdout)
}

func stressMain(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), stressHelp)
		fs.PrintDefaults()
	}
	var o stressOpts
	fs.StringVar(&o.Type, "type", "all", "test types, comma-separated, or all")
	fs.IntVar(&o.Goroutines, "goroutines", 4*runtime.GOMAXPROCS(0), "goroutines per run")
	fs.IntVar(&o.Reps, "reps", 100_000, "operations per goroutine (a preset scales its own unless this is set)")
	fs.StringVar(&o.DelayPoints, "delay-points", "", "where to delay: comma-separated index, lock, pair, or all")
	fs.IntVar(&o.Delay, "delay", 0, "busy-loop iterations at each delay point (default 2000 when -delay-points is set)")
	fs.IntVar(&o.Yield, "yield", 0, "runtime.Gosched after every N-th operation")
	fs.IntVar(&o.Signal, "signal", 0, "send SIGUSR1 (to another worker's thread) after every N-th operation")
	fs.IntVar(&o.Sleep, "sleep", 0, "sleep -sleep-for after every N-th operation")
	fs.DurationVar(&o.SleepFor, "sleep-for", 100*time.Microsecond, "length of each -sleep")
	fs.Float64Var(&o.FallbackShare, "fallback-share", 0, "fraction of goroutines on the fallback path (0 to 1)")
	fs.StringVar(&o.Index, "index", "cpu", "per-CPU memory indexed by cpu or cid (concurrency id)")
	fs.DurationVar(&o.Duration, "duration", 0, "stop each run after this long (0: no limit; presets: 0.6s quick, 1.5s full)")
	preset := fs.String("preset", "", "run a grid: quick or full")
	asJSON := fs.Bool("json", false, "one JSON object per run on stdout, no progress")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("stress: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.DelayPoints != "" && o.Delay == 0 {
		o.Delay = 2000
	}

	var runs []stressOpts
	switch *preset {
	case "":
		types := stressTypes
		if o.Type != "all" {
			types = strings.Split(o.Type, ",")
		}
		for _, t := range types {
			r := o
			r.Type = t
			if r.DelayPoints == "all" {
				r.DelayPoints = strings.Join(delayPointsOf(t), ",")
			}
			runs = append(runs, r)
		}
	case "quick", "full":
		runs = presetRuns(*preset, o, set)
	default:
		return fmt.Errorf("stress: unknown preset %q (quick or full)", *preset)
	}
	for _, r := range runs {
		if err := r.validate(); err != nil {
			return err
		}
	}
	rep := newReporter(out, *asJSON)
	rep.header(len(runs))
	start := time.Now()
	var bad []string
	for i, r := range runs {
		r.broken = r.broken || forceBroken
		res := runOne(r, rep.progress(i, len(runs), r))
		rep.result(i, len(runs), res)
		if res.Count > 0 {
			bad = append(bad, fmt.Sprintf("%s: %s", r, res.Violations[0]))
		}
	}
	rep.summary(len(runs), len(bad), time.Since(start))
	if len(bad) > 0 {
		return fmt.Errorf("stress: %d of %d runs found violations; first: %s", len(bad), len(runs), bad[0])
	}
	return nil
}

func (o stressOpts) validate() error {
	known := false
	for _, t := range stressTypes {
		known = known || t == o.Type
	}
	switch {
	case !known:
		return fmt.Errorf("stress: unknown type %q (want %s or all)", o.Type, strings.Join(stressTypes, ", "))
	case o.Goroutines < 1 || o.Reps < 1:
		return errors.New("stress: -goroutines and -reps must be positive")
	case o.Delay < 0 || o.Yield < 0 || o.Signal < 0 || o.Sleep < 0 || o.SleepFor < 0 || o.Duration < 0:
		return errors.New("stress: -delay, -yield, -signal, -sleep, -sleep-for and -duration must not be negative")
	case !(o.FallbackShare >= 0 && o.FallbackShare <= 1):
		return fmt.Errorf("stress: -fallback-share %g is not in [0, 1]", o.FallbackShare)
	case o.Index != "cpu" && o.Index != "cid":
		return fmt.Errorf("stress: -index %q (want cpu or cid)", o.Index)
	}
	if o.DelayPoints != "" {
		for _, p := range strings.Split(o.DelayPoints, ",") {
			if p != "index" && p != "lock" && p != "pair" {
				return fmt.Errorf("stress: unknown delay point %q (want index, lock, pair or all)", p)
			}
		}
	}
	return nil
}

// presetRuns builds a preset's grid from the base options (goroutines,
// sleep-for, and reps and duration where the user set them).
func presetRuns(name string, base stressOpts, set map[string]bool) []stressOpts {
	// Runs end at dur on any machine (a slow VM does fewer operations);
	// reps only ends the cheap runs early on a fast one.
	reps, dur := 2_000_000, 600*time.Millisecond
	if name == "full" {
		reps, dur = 50_000_000, 1500*time.Millisecond
	}
	if set["reps"] {
		reps = base.Reps
	}
	if set["duration"] {
		dur = base.Duration
	}
	plain := stressOpts{Goroutines: base.Goroutines, Reps: reps, Duration: dur, SleepFor: base.SleepFor, Index: "cpu"}
	var runs []stressOpts
	for _, t := range stressTypes {
		r := plain
		r.Type = t
		if name == "quick" {
			runs = append(runs, r)
			p := r
			p.Index, p.FallbackShare = "cid", 0.25
			p.DelayPoints, p.Delay = strings.Join(delayPointsOf(t), ","), 500
			p.Yield, p.Signal = 7, 97
			runs = append(runs, p)
			continue
		}
		// Every type: the default in each index mode and fallback share.
		combos := []struct {
			index string
			share float64
		}{{"cpu", 0}, {"cid", 0}, {"cpu", 0.25}, {"cid", 0.25}}
		for _, c := range combos {
			p := r
			p.Index, p.FallbackShare = c.index, c.share
			runs = append(runs, p)
		}
		// Then each perturbation once, cycling through the combos so
		// that each meets every index mode and share.
		var vs []stressOpts
		for _, pt := range delayPointsOf(t) {
			for _, d := range []int{100, 5000} {
				p := r
				p.DelayPoints, p.Delay = pt, d
				vs = append(vs, p)
			}
		}
		for _, n := range []int{1, 10, 100} {
			p := r
			p.Yield = n
			vs = append(vs, p)
		}
		for _, n := range []int{10, 1000} {
			p := r
			p.Signal = n
			vs = append(vs, p)
		}
		for _, n := range []int{10, 1000} {
			p := r
			p.Sleep = n
			vs = append(vs, p)
		}
		for i, p := range vs {
			c := combos[i%len(combos)]
			p.Index, p.FallbackShare = c.index, c.share
			runs = append(runs, p)
		}
	}
	return runs
}

// reporter prints progress on a terminal, plain lines otherwise, or JSON.
type reporter struct {
	out  io.Writer
	json bool
	tty  bool
	mu   sync.Mutex
}

func newReporter(out io.Writer, asJSON bool) *reporter {
	// A serial console (the VM harness's) is a terminal without TERM:
	// plain lines there.
	term := os.Getenv("TERM")
	tty := !asJSON && out == io.Writer(os.Stdout) && term != "" && term != "dumb" && isTerminal(os.Stdout)
	return &reporter{out: out, json: asJSON, tty: tty}
}

func engineName() string {
	in := rseq.ReadInfo()
	if in.Usable {
		return fmt.Sprintf("rseq (%s, owner %s)", in.Mode, in.Owner)
	}
	return "fallback: " + in.Reason.String()
}

func (rp *reporter) header(n int) {
	if rp.json {
		return
	}
	fmt.Fprintf(rp.out, "rseq stress: %d runs, GOMAXPROCS %d, %d possible CPUs, engine %s\n",
		n, runtime.GOMAXPROCS(0), rseq.PossibleCPUs(), engineName())
}

// progress returns the function a run calls with its operation count; on a
// terminal it redraws one status line (at most every 200 ms).
func (rp *reporter) progress(i, n int, o stressOpts) func(ops int64, el time.Duration) {
	if !rp.tty {
		return nil
	}
	var last atomic.Int64
	return func(ops int64, el time.Duration) {
		if now := time.Now().UnixNano(); now-last.Load() >= int64(200*time.Millisecond) {
			last.Store(now)
			rp.mu.Lock()
			fmt.Fprintf(rp.out, "\r\033[K[%d/%d] %s: %d ops, %.1fs", i+1, n, o, ops, el.Seconds())
			rp.mu.Unlock()
		}
	}
}

func (rp *reporter) result(i, n int, r stressResult) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.json {
		json.NewEncoder(rp.out).Encode(r)
		return
	}
	if rp.tty {
		fmt.Fprint(rp.out, "\r\033[K")
	}
	st := "ok  "
	if r.Count > 0 {
		st = "FAIL"
	}
	stop := ""
	if r.Stopped {
		stop = " (at -duration)"
	}
	notes := ""
	for _, k := range []string{"switches", "empty_gets"} {
		if v, ok := r.Notes[k]; ok {
			notes += fmt.Sprintf(", %d %s", v, strings.ReplaceAll(k, "_", " "))
		}
	}
	fmt.Fprintf(rp.out, "%s [%d/%d] %s: %d ops in %.2fs%s, %d aborts, %d not-on-cpu, %d retries%s\n",
		st, i+1, n, r.Options, r.Ops, r.Seconds, stop, r.Aborts, r.NotOnCPU, r.Retries, notes)
	for _, v := range r.Violations {
		fmt.Fprintf(rp.out, "     VIOLATION: %s\n", v)
	}
	if r.Count > len(r.Violations) {
		fmt.Fprintf(rp.out, "     ... %d violations in all\n", r.Count)
	}
}

func (rp *reporter) summary(n, bad int, d time.Duration) {
	if rp.json {
		return
	}
	verdict := "all invariants held"
	if bad > 0 {
		verdict = fmt.Sprintf("%d runs with violations", bad)
	}
	fmt.Fprintf(rp.out, "rseq stress: %d runs in %.1fs, %s, %d aborts in all\n", n, d.Seconds(), verdict, hooks.Aborts())
}
