package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/rseq"
)

func runBench(args []string) error {
	if len(args) > 0 && args[0] == "kernel" {
		return runBenchKernel(args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	goroutines := fs.Int("goroutines", 4*runtime.GOMAXPROCS(0), "goroutines adding at once")
	ops := fs.Int("ops", 5_000_000, "additions per goroutine in each round")
	rounds := fs.Int("rounds", 5, "rounds per contender (the median is reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *goroutines < 1 || *ops < 1 || *rounds < 1 {
		return fmt.Errorf("bench: -goroutines, -ops and -rounds must be positive")
	}
	in := rseq.Info()
	path := "rseq"
	if !in.Usable {
		path = "fallback: " + in.Reason.String()
	}
	fmt.Printf("per-CPU counter vs shared atomic: %d goroutines x %d adds, GOMAXPROCS %d, %s\n",
		*goroutines, *ops, runtime.GOMAXPROCS(0), path)

	c := rseq.NewCounter()
	defer c.Close()
	var shared atomic.Int64
	contenders := []struct {
		name string
		add  func()
		load func() int64
	}{
		{"rseq.Counter.Add", func() { c.Add(1) }, c.Load},
		{"atomic.AddInt64 (shared)", func() { shared.Add(1) }, shared.Load},
	}
	ns := make([]float64, len(contenders))
	// Interleave the contenders round by round so that machine noise hits
	// both alike; report the median of each.
	times := make([][]float64, len(contenders))
	for r := 0; r < *rounds; r++ {
		for i, k := range contenders {
			before := k.load()
			d := run(*goroutines, *ops, k.add)
			if got, want := k.load()-before, int64(*goroutines)*int64(*ops); got != want {
				return fmt.Errorf("%s: counted %d, want %d", k.name, got, want)
			}
			times[i] = append(times[i], float64(d.Nanoseconds())/float64(*goroutines**ops))
		}
	}
	fmt.Printf("%-26s %12s %18s\n", "", "ns/op", "ns/op per core")
	for i, k := range contenders {
		sort.Float64s(times[i])
		ns[i] = times[i][len(times[i])/2]
		fmt.Printf("%-26s %12.2f %18.2f\n", k.name, ns[i], ns[i]*float64(runtime.GOMAXPROCS(0)))
	}
	fmt.Printf("ratio (shared atomic / per-CPU): %.2fx\n", ns[1]/ns[0])
	return nil
}

// run times goroutines each calling add ops times.
func run(goroutines, ops int, add func()) time.Duration {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < ops; i++ {
				add()
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	return time.Since(t0)
}
