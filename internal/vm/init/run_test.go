//go:build linux

package main

import (
	"reflect"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		line string
		want command
	}{
		{"/tests/probe -v", command{name: "probe", argv: []string{"/tests/probe", "-v"}}},
		// As written by the harness's runListLine (its TestRunListLine).
		{"env GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=library-cgo /tests/own -test.v", command{
			name: "own", argv: []string{"/tests/own", "-test.v"},
			env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0", "GORSEQ_EXPECT=library-cgo"},
		}},
		{"/tests/x env A=1", command{name: "x", argv: []string{"/tests/x", "env", "A=1"}}},
	} {
		got, err := parseCommand(c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		c.want.line = c.line
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
	for _, line := range []string{"env", "env A=1", "env /tests/x", "env 9A=1 /tests/x", "env =1 /tests/x"} {
		if got, err := parseCommand(line); err == nil {
			t.Errorf("%q: no error, got %+v", line, got)
		}
	}
}
