package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestStressQuick runs the quick preset (every type, plain and perturbed)
// and expects every invariant to hold.
func TestStressQuick(t *testing.T) {
	args := []string{"-preset", "quick", "-json"}
	if testing.Short() {
		args = append(args, "-duration", "250ms")
	}
	var out bytes.Buffer
	err := stressMain(args, &out)
	seen := map[string]int{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r stressResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decoding the JSON results: %v", err)
		}
		seen[r.Type]++
		t.Logf("%s: %d ops, %d aborts, %d not-on-cpu, %.2fs %v", r.Options, r.Ops, r.Aborts, r.NotOnCPU, r.Seconds, r.Notes)
		if r.Count != 0 || len(r.Violations) != 0 {
			t.Errorf("%s: violations: %q", r.Options, r.Violations)
		}
		if r.Ops == 0 {
			t.Errorf("%s: no operations ran", r.Options)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range stressTypes {
		if seen[typ] != 2 {
			t.Errorf("type %s: %d runs, want 2", typ, seen[typ])
		}
	}
}

// TestStressCatchesBrokenIncrement proves that a check can fail: the
// broken increment (load, yield, store the loaded value plus one) loses
// updates, and the run must report it, through runOne and through the
// command's exit error.
func TestStressCatchesBrokenIncrement(t *testing.T) {
	o := stressOpts{Type: "increment", Goroutines: 8, Reps: 2000, Index: "cpu", broken: true}
	res := runOne(o, nil)
	if res.Count == 0 || !strings.Contains(res.Violations[0], "lost") {
		t.Fatalf("broken increment: %d ops, violations %q; want lost updates reported", res.Ops, res.Violations)
	}
	t.Logf("reported: %s", res.Violations[0])

	forceBroken = true
	defer func() { forceBroken = false }()
	var out bytes.Buffer
	err := stressMain([]string{"-type", "increment", "-reps", "2000", "-fallback-share", "0.25"}, &out)
	if err == nil || !strings.Contains(err.Error(), "increment") || !strings.Contains(out.String(), "VIOLATION") {
		t.Fatalf("want an error naming the violation; got %v\n%s", err, out.String())
	}
	t.Logf("error: %v", err)
}

func TestStressFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-type", "nope"},
		{"-index", "node"},
		{"-fallback-share", "1.5"},
		{"-delay-points", "inside"},
		{"-preset", "huge"},
		{"-goroutines", "0"},
		{"extra"},
	} {
		if err := stressMain(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	// -duration stops a run long before its reps; it is not a violation.
	res := runOne(stressOpts{Type: "fence", Goroutines: 4, Reps: math.MaxInt32, Index: "cpu", Duration: 200 * time.Millisecond, Yield: 3}, nil)
	if !res.Stopped || res.Count != 0 {
		t.Fatalf("stopped=%v violations %q", res.Stopped, res.Violations)
	}
}
