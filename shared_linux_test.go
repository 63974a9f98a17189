//go:build linux

package rseq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The two-process tests run this test binary again as the child, which
// runs only TestSharedChild with GORSEQ_SHARED_CHILD saying what to do.

const sharedChildEnv = "GORSEQ_SHARED_CHILD"

func startSharedChild(t *testing.T, role string, extra []*os.File, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, sharedChildEnv+"="+role)...)
	cmd.ExtraFiles = extra
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// childResult finds the child's "RESULT k=v ..." line.
func childResult(t *testing.T, out string) map[string]int64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT "); ok {
			m := map[string]int64{}
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("child result %q: %v", kv, err)
				}
				m[k] = n
			}
			return m
		}
	}
	t.Fatalf("no RESULT line from the child:\n%s", out)
	return nil
}

// TestSharedChild is the child's side; it does nothing in a normal run.
func TestSharedChild(t *testing.T) {
	role := os.Getenv(sharedChildEnv)
	switch role {
	case "":
		t.Skip("runs only as the child of a two-process test")
	case "counter":
		c, err := OpenSharedCounter(os.Getenv("GORSEQ_SHARED_PATH"), nil)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(os.Getenv("GORSEQ_SHARED_OPS"))
		var wg sync.WaitGroup
		for range workers() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					c.Add(3)
				}
			}()
		}
		wg.Wait()
		fmt.Printf("RESULT added=%d\n", int64(workers())*int64(n)*3)
	case "ring":
		f := os.NewFile(3, "ring memfd")
		q, err := OpenSharedRingFile(f, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(os.Getenv("GORSEQ_SHARED_OPS"))
		first, _ := strconv.Atoi(os.Getenv("GORSEQ_SHARED_FIRST"))
		attempts, drops := sharedProduce(q, first, workers(), n)
		fmt.Printf("RESULT attempts=%d drops=%d\n", attempts, drops)
	default:
		if !sharedChildRoles(t, role) {
			t.Fatalf("unknown role %q", role)
		}
	}
}

// sharedProduce runs producers first..first+k-1, each pushing n records
// (seq 0..n-1), retrying each until it commits; it returns the attempts
// and the refusals.
func sharedProduce(q *Ring, first, k, n int) (attempts, drops int64) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := first; g < first+k; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, q.RecordSize())
			var a, d int64
			for seq := 0; seq < n; {
				fillRecord(buf, uint64(seq), uint64(g))
				a++
				if q.Push(buf) {
					seq++
				} else {
					d++
					time.Sleep(10 * time.Microsecond) // the ring is full: let the consumer run
				}
			}
			mu.Lock()
			attempts += a
			drops += d
			mu.Unlock()
		}()
	}
	wg.Wait()
	return attempts, drops
}

// TestSharedCounterTwoProcesses: this process and a child add to one
// counter in a file at the same time; the sum must be exact.
func TestSharedCounterTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	c := sharedOrSkip(t, func() (*SharedCounter, error) { return OpenSharedCounter(path, nil) })
	defer c.Close()
	ops := opsPerGoroutine() / 4
	cmd, out := startSharedChild(t, "counter", nil, "GORSEQ_SHARED_PATH="+path, "GORSEQ_SHARED_OPS="+strconv.Itoa(ops))
	// Add here until the child is done (and at least ops times per
	// goroutine), so that both processes add at the same time.
	var werr error
	var childDone atomic.Bool
	go func() {
		werr = cmd.Wait()
		childDone.Store(true)
	}()
	var mine atomic.Int64
	hammer(t, func(g int) {
		var k int64
		for i := 0; i < ops || !childDone.Load(); i++ {
			c.Add(5)
			k += 5
		}
		mine.Add(k)
	})
	if werr != nil {
		t.Fatalf("child: %v\n%s", werr, out)
	}
	added := childResult(t, out.String())["added"]
	if got := c.Load(); got != mine.Load()+added {
		t.Fatalf("sum %d, want %d (here) + %d (child) = %d", got, mine.Load(), added, mine.Load()+added)
	}
	t.Logf("sum %d: %d here, %d in the child", c.Load(), mine.Load(), added)
}

// TestSharedRingTwoProcesses: a child produces into a ring in a memfd,
// alongside producers here, while this process consumes. Every record
// comes out once, intact, in order per CPU; the drops add up.
func TestSharedRingTwoProcesses(t *testing.T) {
	f, err := NewSharedMemfd("rseq-ring-test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q := sharedOrSkip(t, func() (*Ring, error) { return OpenSharedRingFile(f, 64, 32) })
	defer q.Close()
	k := workers()
	n := max(opsPerGoroutine()/100, 500)
	cmd, out := startSharedChild(t, "ring", []*os.File{f}, "GORSEQ_SHARED_OPS="+strconv.Itoa(n), "GORSEQ_SHARED_FIRST=0")
	chk := newRingChecker(t, 2*k, n)
	var fromChild atomic.Bool
	record := func(cpu int, rec []byte) {
		chk.record(cpu, rec)
		if binary.LittleEndian.Uint64(rec[8:]) < uint64(k) {
			fromChild.Store(true)
		}
	}
	stop := make(chan struct{})
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if q.Drain(record) == 0 {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	// Produce here once the child's records flow, so that both do at once.
	for deadline := time.Now().Add(30 * time.Second); !fromChild.Load() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	attempts, drops := sharedProduce(q, k, k, n) // producers k..2k-1 here
	werr := cmd.Wait()
	close(stop)
	<-consumed
	q.Drain(chk.record)
	if werr != nil {
		t.Fatalf("child: %v\n%s", werr, out)
	}
	res := childResult(t, out.String())
	if want := int(2 * k * n); chk.n != want {
		t.Errorf("%d records delivered, want %d", chk.n, want)
	}
	for g := range 2 * k {
		for seq := range n {
			if d := chk.delivered[g][seq]; d != 1 {
				t.Fatalf("producer %d (child: %v) seq %d delivered %d times", g, g < k, seq, d)
			}
		}
	}
	if got, want := q.Dropped(), uint64(drops+res["drops"]); got != want {
		t.Errorf("Dropped %d, want %d here + %d in the child", got, drops, res["drops"])
	}
	t.Logf("%d records from each process; attempts %d here, %d in the child; drops %d", k*n, attempts, res["attempts"], q.Dropped())
}

// TestSharedMemfdSealed: once a memfd holds a layout, no process can
// shrink it under the others' mappings (which would make them fault).
func TestSharedMemfdSealed(t *testing.T) {
	f, err := NewSharedMemfd("rseq-seal-test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := sharedOrSkip(t, func() (*SharedCounter, error) { return OpenSharedCounterFile(f) })
	defer c.Close()
	if err := f.Truncate(0); err == nil {
		t.Fatal("the memfd could be truncated under the mapping")
	}
	c.Add(7)
	if c.Load() != 7 {
		t.Fatalf("Load %d, want 7", c.Load())
	}
}
