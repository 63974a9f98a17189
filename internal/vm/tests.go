package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// testKind says how a test's executable is obtained for an architecture.
type testKind int

const (
	prebuilt testKind = iota // a path given by the caller; {arch} is replaced
	goBuild                  // a Go main package, built with go build
	goTest                   // a Go package's tests, built with go test -c
)

// testSpec is one command to run in every VM.
type testSpec struct {
	arch string // "amd64" or "arm64": run only there; "" for every architecture
	name string
	kind testKind
	src  string   // path, or Go package pattern
	args []string // arguments passed in the VM
	env  []string // KEY=VALUE added to the test's environment in the VM
}

var (
	testNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	envRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// parseTestSpec parses "[arch:]name=[env KEY=VALUE...] path args...". As
// with env(1), the word env followed by KEY=VALUE words (KEY a shell
// identifier) sets variables for the test; the first other word is the
// path. The name ends at the first "=", so a value may contain "=". With
// an "amd64:" or "arm64:" prefix the test runs on that architecture's
// kernels only.
func parseTestSpec(kind testKind, s string) (testSpec, error) {
	arch, s1, err := cutArch(s)
	if err != nil {
		return testSpec{}, fmt.Errorf("bad test %q: %v", s, err)
	}
	name, rest, ok := strings.Cut(s1, "=")
	fields := strings.Fields(rest)
	if !ok || !testNameRE.MatchString(name) || len(fields) == 0 {
		return testSpec{}, fmt.Errorf("bad test %q: want [arch:]name=[env KEY=VALUE...] path [args...], name of [A-Za-z0-9._-]", s)
	}
	var env []string
	if fields[0] == "env" {
		fields = fields[1:]
		for len(fields) > 0 && envRE.MatchString(fields[0]) {
			env, fields = append(env, fields[0]), fields[1:]
		}
		if len(env) == 0 || len(fields) == 0 {
			return testSpec{}, fmt.Errorf("bad test %q: want env KEY=VALUE... path [args...]", s)
		}
	}
	return testSpec{arch: arch, name: name, kind: kind, src: fields[0], args: fields[1:], env: env}, nil
}

// forArch reports whether t runs on arch's kernels.
func (t testSpec) forArch(arch string) bool { return t.arch == "" || t.arch == arch }

// testsFor returns the tests that run on arch's kernels.
func testsFor(tests []testSpec, arch string) []testSpec {
	var out []testSpec
	for _, t := range tests {
		if t.forArch(arch) {
			out = append(out, t)
		}
	}
	return out
}

// runListLine is t's line in the guest's run list when its executable is at
// path: "[env KEY=VALUE...] path args...", read by internal/vm/init.
func runListLine(t testSpec, path string) string {
	var w []string
	if len(t.env) > 0 {
		w = append(append(w, "env"), t.env...)
	}
	w = append(append(w, path), t.args...)
	return strings.Join(w, " ")
}

// specList is a flag.Value collecting repeated test flags of one kind.
type specList struct {
	kind  testKind
	specs *[]testSpec
}

func (l specList) String() string { return "" }

func (l specList) Set(s string) error {
	t, err := parseTestSpec(l.kind, s)
	if err != nil {
		return err
	}
	*l.specs = append(*l.specs, t)
	return nil
}

// readTestFile reads tests from a file: one per line, "run name=...",
// "go name=..." or "gotest name=..."; a line without a keyword is "run".
// Blank lines and # comments are skipped.
func readTestFile(path string) ([]testSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kinds := map[string]testKind{"run": prebuilt, "go": goBuild, "gotest": goTest}
	var specs []testSpec
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind := prebuilt
		if kw, rest, ok := strings.Cut(line, " "); ok {
			if k, ok := kinds[kw]; ok {
				kind, line = k, strings.TrimSpace(rest)
			}
		}
		t, err := parseTestSpec(kind, line)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		specs = append(specs, t)
	}
	return specs, sc.Err()
}
