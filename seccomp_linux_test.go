package rseq

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSeccompDeniesRseq runs a child under a seccomp filter that answers
// rseq(2) with ENOSYS, then EPERM: Info must say why rseq is off, and the
// operations must still be exact (through the fallback).
func TestSeccompDeniesRseq(t *testing.T) {
	if _, ok := auditArch[runtime.GOARCH]; !ok {
		t.Skipf("no seccomp audit arch for %s in this test", runtime.GOARCH)
	}
	requireEngine(t, "a registration for seccomp to deny")
	for _, c := range []struct {
		errno string
		want  Reason
	}{{"ENOSYS", ReasonNoSyscall}, {"EPERM", ReasonDenied}} {
		t.Run(c.errno, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSeccompChild$", "-test.v")
			cmd.Env = append(os.Environ(), "GORSEQ_TEST_SECCOMP="+c.errno)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if want := fmt.Sprintf("SECCOMP-CHILD usable=false reason=%d exact=true", int(c.want)); !strings.Contains(string(out), want) {
				t.Fatalf("child output lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestSeccompChild installs the filter and re-executes itself, so that the
// library starts up under it (a filter applies across execve); the second
// stage reports what it saw.
func TestSeccompChild(t *testing.T) {
	errno := os.Getenv("GORSEQ_TEST_SECCOMP")
	if errno == "" {
		t.Skip("helper for TestSeccompDeniesRseq")
	}
	if os.Getenv("GORSEQ_TEST_SECCOMP_STAGE") == "" {
		e := unix.ENOSYS
		if errno == "EPERM" {
			e = unix.EPERM
		}
		// The filter goes on this thread only, which then execs: the new
		// image inherits it from its one thread. Filtering every thread
		// here instead made a thread that glibc starts in the meantime (a
		// cgo-linked test binary starts Ms with pthread_create) abort:
		// "Fatal glibc error: rseq registration failed".
		runtime.LockOSThread()
		if err := denyRseq(e); err != nil {
			t.Fatalf("seccomp: %v", err)
		}
		env := append(os.Environ(), "GORSEQ_TEST_SECCOMP_STAGE=2")
		t.Fatal(syscall.Exec(os.Args[0], os.Args, env))
	}
	in := ReadInfo()
	p := newTestPerCPU(t, 64, ByCPU)
	for i := 0; i < 10000; i++ {
		p.Add(Current, 0, 1)
	}
	fmt.Printf("SECCOMP-CHILD usable=%v reason=%d exact=%v (%v: %v)\n", in.Usable, int(in.Reason), sum(p, 0) == 10000, in.Reason, in.Err)
}

var auditArch = map[string]uint32{"amd64": 0xc000003e, "arm64": 0xc00000b7}

// denyRseq installs, for the calling thread (and what it execs), a seccomp
// filter that fails rseq(2) with errno e and allows everything else.
func denyRseq(e unix.Errno) error {
	const (
		ldW, jeqK, retK = 0x20, 0x15, 0x06 // BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
		retAllow        = 0x7fff0000
		retErrno        = 0x00050000
	)
	prog := []unix.SockFilter{
		{Code: ldW, K: 4}, // seccomp_data.arch
		{Code: jeqK, Jt: 0, Jf: 3, K: auditArch[runtime.GOARCH]},
		{Code: ldW, K: 0}, // seccomp_data.nr
		{Code: jeqK, Jt: 0, Jf: 1, K: unix.SYS_RSEQ},
		{Code: retK, K: retErrno | uint32(e)},
		{Code: retK, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	const setModeFilter = 1
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, setModeFilter, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return errno
	}
	return nil
}
