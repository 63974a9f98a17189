package main

import (
	"strconv"
	"strings"
	"time"
)

// testResult is what the console said about one command.
type testResult struct {
	name    string
	rc      int
	secs    float64
	ended   bool // an END line was seen
	timeout bool // the guest's per-command timeout killed it
}

// consoleState accumulates the VMTEST lines of one boot, in the protocol
// documented in internal/vm/init.
type consoleState struct {
	started    bool
	release    string
	machine    string
	cpus       int
	nodes      int           // online NUMA nodes (0: not reported)
	bootTime   time.Duration // from qemu start to the START line
	tests      []*testResult
	done       bool
	pass, fail int
	errors     []string
	notes      []string // VMTEST NOTE lines, printed under the table
	kernel     []string // first kernel Oops/panic/BUG/WARNING lines
}

// kernelMarkers are the substrings of kernel log lines that the report
// repeats: a test run on a kernel that oopsed is not trustworthy.
var kernelMarkers = []string{"Oops:", "Kernel panic", "BUG:", "WARNING:", "general protection fault"}

// maxKernelLines bounds consoleState.kernel.
const maxKernelLines = 4

// feed parses one console line seen at elapsed since qemu started. VMTEST
// lines may be preceded by kernel output on the same line, so the marker
// is searched anywhere.
func (s *consoleState) feed(line string, elapsed time.Duration) {
	i := strings.Index(line, "VMTEST ")
	if i < 0 {
		s.feedKernel(line)
		return
	}
	f := strings.Fields(line[i+len("VMTEST "):])
	if len(f) == 0 {
		return
	}
	kv := keyValues(f[1:])
	switch f[0] {
	case "START":
		s.started, s.bootTime = true, elapsed
		s.release, s.machine = kv["release"], kv["arch"]
		s.cpus, _ = strconv.Atoi(kv["cpus"])
		s.nodes, _ = strconv.Atoi(kv["nodes"])
	case "BEGIN":
		if len(f) > 1 {
			s.tests = append(s.tests, &testResult{name: f[1], rc: -1})
		}
	case "END":
		if len(f) < 2 {
			return
		}
		t := s.test(f[1])
		t.ended = true
		t.rc, _ = strconv.Atoi(kv["rc"])
		t.secs, _ = strconv.ParseFloat(kv["secs"], 64)
		t.timeout = contains(f[2:], "timeout")
	case "DONE":
		s.done = true
		s.pass, _ = strconv.Atoi(kv["pass"])
		s.fail, _ = strconv.Atoi(kv["fail"])
	case "ERROR":
		s.errors = append(s.errors, strings.Join(f[1:], " "))
	case "NOTE":
		s.notes = append(s.notes, strings.Join(f[1:], " "))
	}
}

// feedKernel keeps the first few kernel problem lines.
func (s *consoleState) feedKernel(line string) {
	if len(s.kernel) >= maxKernelLines {
		return
	}
	for _, m := range kernelMarkers {
		if strings.Contains(line, m) {
			s.kernel = append(s.kernel, strings.TrimSpace(line))
			return
		}
	}
}

// test returns the result named name, adding it if no BEGIN was seen.
func (s *consoleState) test(name string) *testResult {
	for i := len(s.tests) - 1; i >= 0; i-- {
		if s.tests[i].name == name {
			return s.tests[i]
		}
	}
	t := &testResult{name: name, rc: -1}
	s.tests = append(s.tests, t)
	return t
}

// result returns the result for name, or nil if it never began.
func (s *consoleState) result(name string) *testResult {
	for _, t := range s.tests {
		if t.name == name {
			return t
		}
	}
	return nil
}

func keyValues(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}
