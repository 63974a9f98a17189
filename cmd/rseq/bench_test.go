package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// decodeResults decodes the -json output: one object per workload.
func decodeResults(t *testing.T, out *bytes.Buffer) []workResult {
	t.Helper()
	var rs []workResult
	dec := json.NewDecoder(out)
	for dec.More() {
		var r workResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decoding the JSON results: %v", err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestBenchWorkloads runs every workload, both sides, with few reps and
// more goroutines than CPUs (so that goroutines are preempted and migrate
// between a pop and its push): every round's check must pass, and the JSON
// must describe the run.
func TestBenchWorkloads(t *testing.T) {
	reps := 20_000
	if testing.Short() {
		reps = 3_000
	}
	for _, pin := range []bool{false, true} {
		args := []string{"-threads", "8", "-reps", fmt.Sprint(reps), "-rounds", "2", "-json"}
		if pin {
			args = append(args, "-pin")
		}
		var out bytes.Buffer
		if err := benchMain(args, &out); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		rs := decodeResults(t, &out)
		if len(rs) != len(workloads) {
			t.Fatalf("%q: %d results, want %d", args, len(rs), len(workloads))
		}
		for i, r := range rs {
			w := workloads[i]
			t.Logf("%s pin=%v: rseq %.1f ns/op (%d misses, %d aborts), go %.1f ns/op (%d misses)",
				r.Workload, pin, r.Rseq.NsPerOp, r.Rseq.Misses, r.Rseq.Aborts, r.Go.NsPerOp, r.Go.Misses)
			switch {
			case r.Workload != w.name || r.Rseq.Name != w.rseq.name || r.Go.Name != w.goway.name:
				t.Errorf("result %d names %q (%q, %q), want %q", i, r.Workload, r.Rseq.Name, r.Go.Name, w.name)
			case r.Threads != 8 || r.Reps != reps || r.Rounds != 2 || r.Pinned != pin:
				t.Errorf("%s: threads %d reps %d rounds %d pinned %v, not as asked", r.Workload, r.Threads, r.Reps, r.Rounds, r.Pinned)
			case len(r.Rseq.Rounds) != 2 || len(r.Go.Rounds) != 2:
				t.Errorf("%s: %d and %d rounds timed, want 2", r.Workload, len(r.Rseq.Rounds), len(r.Go.Rounds))
			case r.ParamTest != fmt.Sprintf("-T %s -t 8 -r %d", w.letter, reps):
				t.Errorf("%s: param_test flags %q", r.Workload, r.ParamTest)
			}
			if r.Rseq.Misses < 0 || r.Rseq.Misses > 2*8*int64(reps) {
				t.Errorf("%s: %d misses out of %d reps", r.Workload, r.Rseq.Misses, 2*8*reps)
			}
		}
	}
}

// TestBenchChecksFail proves that every check can fail: each side's fault
// (a lost update, a handle lost or pushed twice, a corrupted record) must
// make its workload report an error naming the workload and the side.
// Only sync.Pool has none: it may drop items by design.
func TestBenchChecksFail(t *testing.T) {
	defer func() { benchFault = "" }()
	o := workOpts{Threads: 4, Reps: 500, Rounds: 2}
	for _, w := range workloads {
		for _, side := range []struct {
			key string
			s   workSide
		}{{"rseq", w.rseq}, {"go", w.goway}} {
			in, err := side.s.setup(o)
			if err != nil {
				t.Fatal(err)
			}
			hasFault := in.fault != nil
			in.close()
			if !hasFault {
				if w.name != "list" || side.key != "go" {
					t.Errorf("%s/%s has no fault to prove its check", w.name, side.key)
				}
				continue
			}
			benchFault = w.name + "/" + side.key
			_, err = measure(w, o)
			if err == nil || !strings.Contains(err.Error(), w.name) || !strings.Contains(err.Error(), side.s.name) {
				t.Errorf("%s: want an error naming %q and %q, got %v", benchFault, w.name, side.s.name, err)
				continue
			}
			t.Logf("%s: %v", benchFault, err)
		}
	}
	// And with no fault, the same runs pass.
	benchFault = ""
	for _, w := range workloads {
		if _, err := measure(w, o); err != nil {
			t.Errorf("%s without a fault: %v", w.name, err)
		}
	}
}

// TestBenchSections: the counter flags select the counter comparison, the
// workload flags the workloads, both kinds both; -workloads takes names and
// param_test letters; the table has a row per workload.
func TestBenchSections(t *testing.T) {
	const counter = "per-CPU counter vs shared atomic"
	const table = "param_test workloads"
	cases := []struct {
		args          []string
		counter, work bool
		rows          []string
	}{
		{[]string{"-goroutines", "2", "-ops", "1000", "-rounds", "1"}, true, false, nil},
		{[]string{"-threads", "2", "-reps", "500", "-rounds", "1", "-workloads", "i,memcpy,s"}, false, true, []string{"increment", "memcpy", "spinlock"}},
		{[]string{"-goroutines", "2", "-ops", "1000", "-threads", "2", "-reps", "500", "-rounds", "1", "-workloads", "b"}, true, true, []string{"buffer"}},
	}
	for _, c := range cases {
		var out bytes.Buffer
		if err := benchMain(c.args, &out); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		s := out.String()
		if strings.Contains(s, counter) != c.counter || strings.Contains(s, table) != c.work {
			t.Errorf("%q: counter section %v, workloads %v, want %v, %v:\n%s", c.args,
				strings.Contains(s, counter), strings.Contains(s, table), c.counter, c.work, s)
			continue
		}
		var rows []string
		for _, line := range strings.Split(s, "\n") {
			for _, w := range workloads {
				if strings.HasPrefix(line, w.name+" ") {
					rows = append(rows, w.name)
				}
			}
		}
		if strings.Join(rows, ",") != strings.Join(c.rows, ",") {
			t.Errorf("%q: table rows %q, want %q:\n%s", c.args, rows, c.rows, s)
		}
		t.Logf("%q:\n%s", c.args, s)
	}
}

func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-threads", "0"},
		{"-reps", "-1"},
		{"-rounds", "0"},
		{"-workloads", "increment,nope"},
		{"-workloads", ""},
		{"-goroutines", "0"},
		{"-goroutines", "2", "-json"},
		{"extra"},
	} {
		var out bytes.Buffer
		if err := benchMain(args, &out); err == nil {
			t.Errorf("%q: no error", args)
		} else if out.Len() != 0 {
			t.Errorf("%q: %v, after printing %q", args, err, out.String())
		}
	}
	if ws, err := selectWorkloads("m,memcpy,i"); err != nil || len(ws) != 2 || ws[0].name != "memcpy" || ws[1].name != "increment" {
		t.Errorf("selectWorkloads(m,memcpy,i) = %v, %v", ws, err)
	}
}

// BenchmarkParamTest is the workloads as go test benchmarks, for benchstat:
// GOMAXPROCS goroutines share b.N reps; ns/op is wall / reps, as in the
// command's table. Each run is checked like a round of the command.
func BenchmarkParamTest(b *testing.B) {
	threads := runtime.GOMAXPROCS(0)
	for _, w := range workloads {
		for _, side := range []struct {
			key string
			s   workSide
		}{{"rseq", w.rseq}, {"go", w.goway}} {
			b.Run(w.name+"/"+side.key, func(b *testing.B) {
				o := workOpts{Threads: threads, Reps: max(1, b.N/threads), Rounds: 1}
				in, err := side.s.setup(o)
				if err != nil {
					b.Fatal(err)
				}
				defer in.close()
				b.ResetTimer()
				timeLoop(o, in.loop)
				b.StopTimer()
				if err := in.check(1); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
