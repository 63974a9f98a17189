package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// bootWith returns a run of kernel k whose console printed lines.
func bootWith(k string, lines ...string) *kernelRun {
	r := &kernelRun{spec: knownKernels[k], boot: &bootResult{}}
	for i, l := range lines {
		r.boot.console.feed(l, time.Duration(i)*time.Second)
	}
	return r
}

// TestReportArchTests: a test for one architecture counts only on that
// architecture's kernels, and its cell elsewhere reads "-"; a kernel that
// ran fewer of its own tests fails.
func TestReportArchTests(t *testing.T) {
	tests := []testSpec{{name: "all"}, {arch: "amd64", name: "musl"}}
	amd := bootWith("sid-amd64",
		"VMTEST START release=7.2 arch=x86_64 cpus=2",
		"VMTEST BEGIN all cmd=/tests/all", "VMTEST END all rc=0 secs=1.00",
		"VMTEST BEGIN musl cmd=/tests/musl", "VMTEST END musl rc=0 secs=2.00",
		"VMTEST DONE pass=2 fail=0")
	arm := bootWith("sid-arm64",
		"VMTEST START release=7.2 arch=aarch64 cpus=2",
		"VMTEST BEGIN all cmd=/tests/all", "VMTEST END all rc=0 secs=1.00",
		"VMTEST DONE pass=1 fail=0")
	short := bootWith("bookworm-amd64",
		"VMTEST START release=6.1 arch=x86_64 cpus=2",
		"VMTEST BEGIN all cmd=/tests/all", "VMTEST END all rc=0 secs=1.00",
		"VMTEST DONE pass=1 fail=0")
	for _, c := range []struct {
		r    *kernelRun
		ok   bool
		musl string
	}{{amd, true, "ok 2.0s"}, {arm, true, "-"}, {short, false, "not run"}} {
		if got := c.r.ok(tests); got != c.ok {
			t.Errorf("%s: ok %v, want %v", c.r.spec.name, got, c.ok)
		}
		if got := cell(c.r, tests[1]); got != c.musl {
			t.Errorf("%s: musl cell %q, want %q", c.r.spec.name, got, c.musl)
		}
	}
	var b bytes.Buffer
	printTable(&b, []*kernelRun{amd, arm}, tests)
	lines := strings.Split(b.String(), "\n")
	if f := strings.Fields(lines[2]); f[0] != "sid-arm64" || f[len(f)-2] != "-" || f[len(f)-1] != "PASS" {
		t.Errorf("arm64 row %q", lines[2])
	}
}
