package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseTestSpec(t *testing.T) {
	for _, c := range []struct {
		in   string
		want testSpec
	}{
		{"probe=./internal/vm/probe", testSpec{name: "probe", src: "./internal/vm/probe", args: []string{}}},
		{"rseq=. -test.short  -test.v", testSpec{name: "rseq", src: ".", args: []string{"-test.short", "-test.v"}}},
		{"cgo-libc=env GORSEQ_EXPECT=libc /tmp/rseq-cgo.{arch}.test -test.v", testSpec{
			name: "cgo-libc", src: "/tmp/rseq-cgo.{arch}.test", args: []string{"-test.v"},
			env: []string{"GORSEQ_EXPECT=libc"},
		}},
		// Values may hold "="; the first word that is no KEY=VALUE is the path.
		{"own=env GLIBC_TUNABLES=glibc.pthread.rseq=0 _X1= ./bin a=b", testSpec{
			name: "own", src: "./bin", args: []string{"a=b"},
			env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0", "_X1="},
		}},
		// Not an identifier: a path, as in sh.
		{"p=env A=1 ./x=y", testSpec{name: "p", src: "./x=y", args: []string{}, env: []string{"A=1"}}},
		// An architecture: the test runs on that architecture's kernels only.
		{"amd64:musl=env GORSEQ_EXPECT=library-cgo /b/musl.test -test.v", testSpec{
			arch: "amd64", name: "musl", src: "/b/musl.test", args: []string{"-test.v"},
			env: []string{"GORSEQ_EXPECT=library-cgo"},
		}},
		{"arm64:p=./x", testSpec{arch: "arm64", name: "p", src: "./x", args: []string{}}},
		// env only as the first word.
		{"e=./bin env A=1", testSpec{name: "e", src: "./bin", args: []string{"env", "A=1"}}},
	} {
		got, err := parseTestSpec(prebuilt, c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		"", "name", "name=", "na me=x", "=x",
		"n=env", "n=env A=1", "n=env ./bin", "n=env 1A=2 ./bin",
		"riscv64:n=./bin", "amd64:=./bin", "amd64:", ":n=./bin", "amd64:arm64:n=./bin",
	} {
		if got, err := parseTestSpec(prebuilt, in); err == nil {
			t.Errorf("%q: no error, got %+v", in, got)
		}
	}
}

func TestRunListLine(t *testing.T) {
	s, err := parseTestSpec(goTest, "own=env GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo . -test.v")
	if err != nil {
		t.Fatal(err)
	}
	// internal/vm/init parses this line (its TestParseCommand).
	want := "env GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo /tests/own -test.v"
	if got := runListLine(s, "/tests/own"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := runListLine(testSpec{name: "p", args: []string{"-a"}}, "/tests/p"); got != "/tests/p -a" {
		t.Errorf("no env: got %q", got)
	}
}

func TestReadTestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tests")
	data := "# comment\n\ngotest rseq=. -test.v\nrun cgo=env GORSEQ_EXPECT=libc /b/{arch}\ngo probe=./p\nplain=/x\nrun amd64:musl=/m\narm64:a=/y\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readTestFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []testSpec{
		{name: "rseq", kind: goTest, src: ".", args: []string{"-test.v"}},
		{name: "cgo", kind: prebuilt, src: "/b/{arch}", args: []string{}, env: []string{"GORSEQ_EXPECT=libc"}},
		{name: "probe", kind: goBuild, src: "./p", args: []string{}},
		{name: "plain", kind: prebuilt, src: "/x", args: []string{}},
		{arch: "amd64", name: "musl", kind: prebuilt, src: "/m", args: []string{}},
		{arch: "arm64", name: "a", kind: prebuilt, src: "/y", args: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestTestsFor(t *testing.T) {
	tests := []testSpec{{name: "all"}, {arch: "amd64", name: "musl"}, {arch: "arm64", name: "a"}}
	names := func(ts []testSpec) (n []string) {
		for _, t := range ts {
			n = append(n, t.name)
		}
		return n
	}
	if got := names(testsFor(tests, "amd64")); !reflect.DeepEqual(got, []string{"all", "musl"}) {
		t.Errorf("amd64: %q", got)
	}
	if got := names(testsFor(tests, "arm64")); !reflect.DeepEqual(got, []string{"all", "a"}) {
		t.Errorf("arm64: %q", got)
	}
}
