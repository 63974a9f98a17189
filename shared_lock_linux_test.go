package rseq

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The children of the reliability tests of shared memory: consumers that
// hold the consumer lock of a shared ring, die in Drain or run in another
// pid namespace; opens on a full tmpfs; a process whose PossibleCPUs is
// smaller than the CPUs it runs on. sharedChildRoles runs the role (in
// TestSharedChild) and reports whether it knew it.
func sharedChildRoles(t *testing.T, role string) bool {
	switch role {
	case "drain-die", "drain-hold":
		// Drain the ring in fd 3, printing each record's seq before
		// handling it. drain-die blocks forever at the HOLD_AT-th record
		// (to be killed there); drain-hold waits at the first for a line
		// on stdin, then goes on.
		q, err := OpenSharedRingFile(os.NewFile(3, "ring"), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		holdAt, _ := strconv.Atoi(os.Getenv("GORSEQ_SHARED_HOLD_AT"))
		fmt.Printf("PID %d\n", os.Getpid())
		got := 0
		n := q.Drain(func(cpu int, rec []byte) {
			seq, ok := checkRecord(rec)
			fmt.Printf("GOT %d %v\n", seq, ok)
			if got++; got == holdAt {
				fmt.Println("HOLDING")
				if role == "drain-die" {
					select {}
				}
				bufio.NewReader(os.Stdin).ReadString('\n')
			}
		})
		fmt.Printf("DONE %d\n", n)
	case "pidns":
		// pid 1 of a new pid namespace: start the consumer (role
		// GORSEQ_SHARED_INNER) as pid GORSEQ_SHARED_NS_PID of the
		// namespace if ns_last_pid lets us, else as pid 2.
		if want, _ := strconv.Atoi(os.Getenv("GORSEQ_SHARED_NS_PID")); want > 1 {
			// The first exec of a process probes clone flags with a
			// child of its own (taking a pid): get it done first.
			exec.Command(os.Args[0], "-test.run=^$").Run()
			if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(want-1)), 0); err != nil {
				fmt.Printf("NOTE ns_last_pid: %v\n", err)
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), sharedChildEnv+"="+os.Getenv("GORSEQ_SHARED_INNER"))
		cmd.ExtraFiles = []*os.File{os.NewFile(3, "ring")}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("consumer in the pid namespace: %v", err)
		}
	case "enospc":
		enospcChild(t)
	case "fakecpus":
		// In a mount namespace of its own: make PossibleCPUs() 1 by
		// binding a one-CPU list over sysfs's, and run the test binary
		// again to read it at start-up.
		fake := filepath.Join(os.Getenv("GORSEQ_SHARED_DIR"), "possible")
		os.WriteFile(fake, []byte("0\n"), 0o644)
		if err := syscall.Mount(fake, "/sys/devices/system/cpu/possible", "", syscall.MS_BIND, ""); err != nil {
			fmt.Printf("SKIP binding a one-CPU list over sysfs: %v\n", err)
			return true
		}
		var env []string // syscall.Exec keeps the first of duplicate keys
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, sharedChildEnv+"=") {
				env = append(env, kv)
			}
		}
		env = append(env, sharedChildEnv+"=fakecpus2")
		err := syscall.Exec(os.Args[0], []string{os.Args[0], "-test.run=^TestSharedChild$", "-test.count=1", "-test.v"}, env)
		t.Fatalf("exec: %v", err)
	case "fakecpus2":
		fakeCPUsChild(t)
	default:
		return false
	}
	return true
}

// streamChild starts the test binary as the child of role, with its
// output delivered line by line, and its stdin.
func streamChild(t *testing.T, role string, extra []*os.File, attr *syscall.SysProcAttr, env ...string) (*exec.Cmd, <-chan string, io.WriteCloser, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, sharedChildEnv+"="+role)...)
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = attr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // the pipe's write end: one stream
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	killHung(t, cmd)
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, in, nil
}

// sharedRingOf pushes n records (seq 0..n-1) into a new ring in a memfd
// whose CPUs each hold them all.
func sharedRingOf(t *testing.T, n int) (*os.File, *Ring) {
	t.Helper()
	f, err := NewSharedMemfd("rseq-lock-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	q := sharedOrSkip(t, func() (*Ring, error) { return OpenSharedRingFile(f, 32, 64) })
	t.Cleanup(func() { q.Close() })
	buf := make([]byte, 32)
	for seq := 0; seq < n; seq++ {
		fillRecord(buf, uint64(seq), 0)
		if !q.Push(buf) {
			t.Fatalf("Push %d refused", seq)
		}
	}
	return f, q
}

// consumed counts deliveries: the child's GOT lines and this process's
// Drains; every seq below n must come out exactly once.
type consumed struct {
	t     *testing.T
	n     int
	times []int
	child int
}

func (c *consumed) line(l string) {
	if rest, ok := strings.CutPrefix(l, "GOT "); ok {
		var seq uint64
		var whole bool
		fmt.Sscanf(rest, "%d %t", &seq, &whole)
		c.add(seq, whole)
		c.child++
	}
}

func (c *consumed) add(seq uint64, whole bool) {
	if !whole || seq >= uint64(c.n) {
		c.t.Errorf("torn or foreign record (seq %d)", seq)
		return
	}
	c.times[seq]++
}

func (c *consumed) check() {
	c.t.Helper()
	for seq, k := range c.times {
		if k != 1 {
			c.t.Errorf("record %d delivered %d times (%d by the child)", seq, k, c.child)
		}
	}
}

// drainWatched runs q.Drain into c, failing the test if it does not
// return (a consumer lock that is never released).
func drainWatched(t *testing.T, q *Ring, c *consumed) int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		done <- q.Drain(func(cpu int, rec []byte) {
			seq, ok := checkRecord(rec)
			c.add(seq, ok)
		})
	}()
	select {
	case n := <-done:
		return n
	case <-time.After(time.Minute):
		buf := make([]byte, 1<<20)
		t.Fatalf("Drain hung: the consumer lock was never released\n%s", buf[:runtime.Stack(buf, true)])
	}
	return 0
}

// TestSharedRingConsumerKilled: a consumer process killed inside Drain,
// while it holds the consumer lock, does not block later Drains, and every
// record comes out exactly once: those it was handed count as delivered.
// With a process id in a lock word, the records it had been handed came
// out again, and Drain hung forever when the dead holder's pid belonged to
// a live process (pid reuse; here, a consumer in a pid namespace whose pid
// there is this test's pid outside).
func TestSharedRingConsumerKilled(t *testing.T) {
	t.Run("same namespace", func(t *testing.T) { testConsumerKilled(t, false) })
	t.Run("pid namespace, pid of a live process", func(t *testing.T) { testConsumerKilled(t, true) })
}

func testConsumerKilled(t *testing.T, pidns bool) {
	const n, holdAt = 40, 5
	f, q := sharedRingOf(t, n)
	role, env := "drain-die", []string{"GORSEQ_SHARED_HOLD_AT=" + strconv.Itoa(holdAt)}
	var attr *syscall.SysProcAttr
	if pidns {
		role, attr = "pidns", pidnsAttr()
		env = append(env, "GORSEQ_SHARED_INNER=drain-die", "GORSEQ_SHARED_NS_PID="+strconv.Itoa(os.Getpid()))
	}
	cmd, lines, _, err := streamChild(t, role, []*os.File{f}, attr, env...)
	if err != nil {
		skipIfNamespaceDenied(t, err)
		t.Fatal(err)
	}
	c := &consumed{t: t, n: n, times: make([]int, n)}
	var out []string
	for l := range lines {
		out = append(out, l)
		c.line(l)
		if l == "HOLDING" {
			break
		}
	}
	if c.child != holdAt {
		cmd.Wait()
		t.Fatalf("child handed %d records before holding, want %d:\n%s", c.child, holdAt, strings.Join(out, "\n"))
	}
	cmd.Process.Kill() // in a pid namespace, its init: the consumer dies with it
	cmd.Wait()
	got := drainWatched(t, q, c)
	t.Logf("consumer (%s) handed %d records and was killed holding the lock; this process (pid %d) drained %d", pidLine(out), c.child, os.Getpid(), got)
	c.check()
	if q.Len() != 0 {
		t.Errorf("%d records left", q.Len())
	}
}

// pidnsAttr starts a child in a new pid namespace (and a user namespace
// where this process is not root).
func pidnsAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if os.Getuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	return attr
}

func skipIfNamespaceDenied(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENOSYS) {
		t.Skipf("cannot start a process in a namespace of its own here: %v", err)
	}
}

// TestSharedRingConsumersInPidNamespaces: a consumer in another pid
// namespace holds the lock inside Drain while this process's Drain waits;
// every record comes out exactly once. (With a process id in a lock word,
// this process found no process of the holder's pid, took the lock and
// delivered the same records again.)
func TestSharedRingConsumersInPidNamespaces(t *testing.T) {
	const n = 40
	f, q := sharedRingOf(t, n)
	// The consumer's pid in its namespace is one no process has here, as
	// when the waiter's kill(pid, 0) got ESRCH and took the lock.
	cmd, lines, stdin, err := streamChild(t, "pidns", []*os.File{f}, pidnsAttr(),
		"GORSEQ_SHARED_HOLD_AT=1", "GORSEQ_SHARED_INNER=drain-hold", "GORSEQ_SHARED_NS_PID="+strconv.Itoa(unusedPid()))
	if err != nil {
		skipIfNamespaceDenied(t, err)
		t.Fatal(err)
	}
	c := &consumed{t: t, n: n, times: make([]int, n)}
	var out []string
	for l := range lines {
		out = append(out, l)
		c.line(l)
		if l == "HOLDING" {
			break
		}
	}
	if c.child != 1 {
		cmd.Wait()
		t.Fatalf("the consumer in the pid namespace did not take the lock:\n%s", strings.Join(out, "\n"))
	}
	// Drain here while it holds the lock. This Drain must wait for it:
	// let the holder go on when this Drain returns (a broken lock), or
	// after a while (if this Drain had not reached the lock by then, the
	// test proves less, but does not fail).
	mine := make(chan int, 1)
	go func() { mine <- drainWatched(t, q, c) }()
	got, early := 0, false
	select {
	case got = <-mine:
		early = true
	case <-time.After(1500 * time.Millisecond):
	}
	fmt.Fprintln(stdin, "GO")
	for l := range lines {
		out = append(out, l)
		c.line(l)
	}
	werr := cmd.Wait()
	if !early {
		got = <-mine
	} else {
		t.Errorf("this process's Drain returned (%d records) while the consumer in the pid namespace held the lock", got)
	}
	if werr != nil {
		t.Fatalf("child: %v\n%s", werr, strings.Join(out, "\n"))
	}
	t.Logf("consumer in the pid namespace (%s) delivered %d, this process %d", pidLine(out), c.child, got)
	drainWatched(t, q, c)
	c.check()
}

// unusedPid returns a pid no process has now (a namespace's consumer gets
// it there).
func unusedPid() int {
	for pid := 100000; ; pid += 7 {
		if unix.Kill(pid, 0) == unix.ESRCH {
			return pid
		}
	}
}

func pidLine(out []string) string {
	for _, l := range out {
		if strings.HasPrefix(l, "PID ") || strings.HasPrefix(l, "NOTE ") {
			return l
		}
	}
	return "pid unknown"
}

// enospcChild runs in a mount namespace of its own: on tmpfs file systems
// too small for the files, creating a shared counter or ring must fail
// with ENOSPC and leave the file empty, never open and then fault.
func enospcChild(t *testing.T) {
	dir := os.Getenv("GORSEQ_SHARED_DIR")
	for _, c := range []struct {
		name string
		size string // the tmpfs
		fill int    // bytes another file takes first
		open func(path string) (io.Closer, error)
	}{
		{"counter, one page", "size=4k", 0, func(p string) (io.Closer, error) { return OpenSharedCounter(p, nil) }},
		{"ring, one page", "size=4k", 0, func(p string) (io.Closer, error) { return OpenSharedRing(p, 64, 64, nil) }},
		{"counter, nearly full", "size=64k", 60 << 10, func(p string) (io.Closer, error) { return OpenSharedCounter(p, nil) }},
		{"ring, nearly full", "size=1m", 1000 << 10, func(p string) (io.Closer, error) { return OpenSharedRing(p, 256, 256, nil) }},
	} {
		mnt, _ := os.MkdirTemp(dir, "tmpfs")
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, c.size); err != nil {
			fmt.Printf("SKIP mounting a tmpfs: %v\n", err)
			return
		}
		if c.fill > 0 {
			if err := os.WriteFile(filepath.Join(mnt, "fill"), make([]byte, c.fill), 0o600); err != nil {
				t.Fatalf("%s: filling: %v", c.name, err)
			}
		}
		path := filepath.Join(mnt, "shared")
		v, err := c.open(path)
		if err == nil {
			// Before the fix: open succeeded, and the first update of
			// an unreserved page faulted (SIGBUS) here.
			if ctr, ok := v.(*SharedCounter); ok {
				ctr.Add(1)
			} else {
				q := v.(*Ring)
				q.Push(make([]byte, q.RecordSize()))
			}
			fmt.Printf("FAIL %s: opened on a full tmpfs\n", c.name)
			continue
		}
		st, _ := os.Stat(path)
		fmt.Printf("CASE %s: enospc=%v size=%d: %v\n", c.name, errors.Is(err, syscall.ENOSPC), st.Size(), err)
		syscall.Unmount(mnt, 0)
	}
}

// TestSharedOpenFullTmpfs: creating a shared counter or ring on a tmpfs
// without room for it fails with an error wrapping ENOSPC (it used to
// succeed, and the first Add or Push died of SIGBUS).
func TestSharedOpenFullTmpfs(t *testing.T) {
	requireEngine(t, "shared memory (TestSharedCounterTwoMappings checks the refusal)")
	cmd, out := startSharedChildAttr(t, "enospc", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}, "GORSEQ_SHARED_DIR="+t.TempDir())
	err := cmd.Wait()
	text := out.String()
	if i := strings.Index(text, "SKIP "); i >= 0 {
		t.Skipf("%s", strings.SplitN(text[i+5:], "\n", 2)[0])
	}
	if err != nil || strings.Contains(text, "FAIL ") {
		t.Fatalf("child: %v\n%s", err, text)
	}
	cases := 0
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "CASE "); ok {
			cases++
			t.Log(rest)
			if !strings.Contains(rest, "enospc=true size=0") {
				t.Errorf("want an error wrapping ENOSPC and an empty file: %s", rest)
			}
		}
	}
	if cases != 4 {
		t.Fatalf("%d cases reported, want 4:\n%s", cases, text)
	}
}

// startSharedChildAttr is startSharedChild with process attributes; it
// skips the test where they are not permitted.
func startSharedChildAttr(t *testing.T, role string, attr *syscall.SysProcAttr, env ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, sharedChildEnv+"="+role)...)
	cmd.SysProcAttr = attr
	out := new(strings.Builder)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		skipIfNamespaceDenied(t, err)
		t.Fatal(err)
	}
	killHung(t, cmd)
	return cmd, out
}

// killHung kills the child if it still runs after two minutes (it hangs),
// so that the test fails on its output instead of timing out.
func killHung(t *testing.T, cmd *exec.Cmd) {
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	t.Cleanup(func() { timer.Stop() })
}

// fakeCPUsChild runs with PossibleCPUs() = 1 on a machine with more CPUs.
func fakeCPUsChild(t *testing.T) {
	if PossibleCPUs() != 1 {
		fmt.Printf("SKIP PossibleCPUs() is %d with a one-CPU list bound over sysfs\n", PossibleCPUs())
		return
	}
	if !ReadInfo().Usable {
		fmt.Printf("SKIP no engine here: %v\n", ReadInfo().Reason)
		return
	}
	runtime.LockOSThread()
	var all, zero, one unix.CPUSet
	unix.SchedGetaffinity(0, &all)
	if !all.IsSet(0) || !all.IsSet(1) {
		fmt.Println("SKIP CPUs 0 and 1 are not both available")
		return
	}
	zero.Set(0)
	one.Set(1)
	path := filepath.Join(os.Getenv("GORSEQ_SHARED_DIR"), "counter")
	// Open where only CPU 0 is allowed: it has a block.
	unix.SchedSetaffinity(0, &zero)
	c, err := OpenSharedCounter(path, nil)
	if err != nil {
		t.Fatalf("open on CPU 0: %v", err)
	}
	c.Add(1)
	// Then run on CPU 1, which has none.
	unix.SchedSetaffinity(0, &one)
	func() {
		defer func() { fmt.Printf("ADD %v\n", recover()) }()
		c.Add(1)
	}()
	// Open where CPU 1 is allowed.
	_, err = OpenSharedCounter(path, nil)
	fmt.Printf("OPEN %v\n", err)
}

// TestSharedCPUsOutsideFile: a process whose PossibleCPUs() is smaller
// than a CPU it runs on (an emulated sysfs) is told so, by the open and by
// SharedCounter.Add on that CPU (Add said "this thread has no rseq
// registration").
func TestSharedCPUsOutsideFile(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs CPUs 0 and 1")
	}
	requireEngine(t, "shared memory")
	cmd, out := startSharedChildAttr(t, "fakecpus", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}, "GORSEQ_SHARED_DIR="+t.TempDir())
	err := cmd.Wait()
	text := out.String()
	if i := strings.Index(text, "SKIP "); i >= 0 {
		t.Skipf("%s", strings.SplitN(text[i+5:], "\n", 2)[0])
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, text)
	}
	var add, open string
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "ADD "); ok {
			add = rest
		}
		if rest, ok := strings.CutPrefix(l, "OPEN "); ok {
			open = rest
		}
	}
	t.Logf("Add on CPU 1: %s", add)
	t.Logf("open with CPU 1 allowed: %s", open)
	for what, msg := range map[string]string{"Add on CPU 1": add, "open with CPU 1 allowed": open} {
		if !strings.Contains(msg, "CPU 1") || !strings.Contains(msg, "PossibleCPUs() is 1") || strings.Contains(msg, "no rseq registration") {
			t.Errorf("%s: %q, want the reason: CPU 1 has no block, PossibleCPUs() is 1", what, msg)
		}
	}
}
