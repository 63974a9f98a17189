package main

import (
	"testing"
	"time"
)

func TestConsoleParse(t *testing.T) {
	var s consoleState
	lines := []string{
		"[    0.000000] Linux version 7.2.13",
		"[    1.318157] Oops: int3: 0000 [#1] SMP NOPTI",
		"VMTEST START release=7.2.13+deb14-cloud-amd64 arch=x86_64 cpus=2 nodes=2",
		"VMTEST BEGIN probe cmd=/tests/probe -v",
		"probe: feature size 33",
		"VMTEST NOTE PROBE feature_size=33",
		"[    3.1] random: crng init doneVMTEST END probe rc=0 secs=0.12",
		"VMTEST BEGIN hang cmd=/tests/hang",
		"VMTEST END hang rc=-1 secs=300.00 timeout",
		"VMTEST DONE pass=1 fail=1",
	}
	for i, l := range lines {
		s.feed(l, time.Duration(i)*time.Second)
	}
	if !s.started || s.release != "7.2.13+deb14-cloud-amd64" || s.machine != "x86_64" || s.cpus != 2 || s.nodes != 2 {
		t.Fatalf("start: %+v", s)
	}
	if s.bootTime != 2*time.Second {
		t.Errorf("boot time %v", s.bootTime)
	}
	p := s.result("probe")
	if p == nil || !p.ended || p.rc != 0 || p.secs != 0.12 || p.timeout {
		t.Errorf("probe: %+v", p)
	}
	if len(s.notes) != 1 || s.notes[0] != "PROBE feature_size=33" {
		t.Errorf("notes: %q", s.notes)
	}
	if len(s.kernel) != 1 || s.kernel[0] != "[    1.318157] Oops: int3: 0000 [#1] SMP NOPTI" {
		t.Errorf("kernel lines: %q", s.kernel)
	}
	h := s.result("hang")
	if h == nil || !h.timeout || h.rc != -1 {
		t.Errorf("hang: %+v", h)
	}
	if !s.done || s.pass != 1 || s.fail != 1 {
		t.Errorf("done: %+v", s)
	}
}
