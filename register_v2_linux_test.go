package rseq

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestV2EnforcementLive proves that the kernel's V2 read-only enforcement
// is active for this library's registrations: a child that deliberately
// writes its area's cpu_id_start (the write this library never makes) and
// then migrates must be killed. Without this, surviving the rest of the
// suite on a V2 kernel would prove nothing. It needs Linux 7.0+ and an own
// registration longer than 32 bytes: it runs in the kernel matrix, and
// skips with the reason elsewhere.
func TestV2EnforcementLive(t *testing.T) {
	in := ReadInfo()
	switch {
	case !in.Usable:
		t.Skipf("rseq not used: %v", in.Reason)
	case in.Owner != OwnerLibrary:
		t.Skip("the C library owns the registration (its length picks the mode)")
	case in.Mode != ModeV2:
		t.Skipf("registration is %d bytes (legacy mode): V2 needs Linux 7.0+ (feature size %d here)", in.RegisteredLen, in.FeatureSize)
	case !kernelAtLeast(in.Kernel, 7, 0):
		t.Skipf("kernel %s has no V2 mode", in.Kernel)
	case runtime.NumCPU() < 2:
		t.Skip("needs two CPUs to migrate between")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestV2EnforcementChild$", "-test.v")
	cmd.Env = append(os.Environ(), "GORSEQ_TEST_V2_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child survived a write to cpu_id_start (err %v): enforcement not live\n%s", err, out)
	}
	o := string(out)
	if !strings.Contains(o, "V2-CHILD wrote cpu_id_start") || strings.Contains(o, "V2-CHILD survived") {
		t.Fatalf("child did not die after its write (err %v):\n%s", err, o)
	}
	// The kernel forces a SIGSEGV. Go's runtime handles SIGSEGV itself and
	// turns it into a fatal error (exit status 2) naming the signal: as
	// "[signal SIGSEGV: ..." or, when it lands in a syscall as it often
	// does on arm64, "unexpected fault address ... SIGSEGV: segmentation
	// violation".
	ws, _ := ee.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		t.Logf("child killed by %v after writing cpu_id_start, as V2 requires", ws.Signal())
	case strings.Contains(o, "SIGSEGV: segmentation violation"):
		t.Logf("child got the kernel's SIGSEGV after writing cpu_id_start, as V2 requires (%v)", err)
	default:
		t.Fatalf("child exited with %v but not from a signal:\n%s", err, o)
	}
}

// TestV2EnforcementChild is the child: it breaks the rule on purpose.
func TestV2EnforcementChild(t *testing.T) {
	if os.Getenv("GORSEQ_TEST_V2_CHILD") == "" {
		t.Skip("helper for TestV2EnforcementLive")
	}
	runtime.LockOSThread()
	cpu := CPU() // registers this thread
	area := currentArea()
	// The forbidden write: a value the kernel did not put there.
	*(*uint32)(unsafe.Add(area, offCPUIDStart)) = uint32(cpu) ^ 0x5a5a
	fmt.Println("V2-CHILD wrote cpu_id_start")
	var old unix.CPUSet
	unix.SchedGetaffinity(0, &old)
	for i := 0; i < 200; i++ { // migrate back and forth: the kernel must rewrite the ids
		var one unix.CPUSet
		one.Set(i % 2)
		unix.SchedSetaffinity(0, &one)
		time.Sleep(time.Millisecond)
	}
	fmt.Println("V2-CHILD survived")
}

// kernelAtLeast reports whether a release such as "7.2.13+deb14-cloud-amd64"
// is at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if n, _ := fmt.Sscanf(release, "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
