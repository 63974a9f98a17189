package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/gorseq/rseq/internal/kbench"
)

// kbenchChild marks the re-executed child that measures: there neither
// this library nor glibc registers threads, so the meter controls every
// registration itself.
const kbenchChild = "GORSEQ_KBENCH_CHILD"

func runBenchKernel(args []string) error {
	fs := flag.NewFlagSet("bench kernel", flag.ContinueOnError)
	rounds := fs.Int("rounds", 7, "rounds (modes interleaved in each)")
	n := fs.Int("n", 200000, "operations per measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if runtime.GOOS != "linux" {
		return errors.New("bench kernel: Linux only")
	}
	if os.Getenv(kbenchChild) == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(self, append([]string{"bench", "kernel"}, args...)...)
		cmd.Env = append(os.Environ(), kbenchChild+"=1", "GORSEQ=off", "GLIBC_TUNABLES=glibc.pthread.rseq=0")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	if *rounds < 1 || *n < 1 {
		return errors.New("bench kernel: -rounds and -n must be positive")
	}
	modes := kbench.Modes()
	tests := []struct {
		name string
		f    func(kbench.Mode, int) (float64, error)
		n    int
	}{
		{"getppid syscall", kbench.Syscall, *n * 10},
		{"sched_yield switch, 1 CPU", kbench.Yield, *n},
		{"futex switch, 1 CPU", kbench.Futex, *n / 4},
	}
	res := make([][][]float64, len(tests))
	for t := range tests {
		res[t] = make([][]float64, len(modes))
	}
	for r := 0; r < *rounds; r++ {
		for t, tc := range tests {
			for m, mode := range modes {
				ns, err := tc.f(mode, tc.n)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", tc.name, mode.Name, err)
				}
				res[t][m] = append(res[t][m], ns)
			}
		}
	}
	fmt.Printf("kernel exit cost by rseq registration: median ns/op [min-max] of %d rounds\n", *rounds)
	fmt.Printf("%-28s", "")
	for _, m := range modes {
		fmt.Printf("%26s", m.Name)
	}
	fmt.Printf("%14s%14s\n", "legacy/unreg", "V2/legacy")
	for t, tc := range tests {
		fmt.Printf("%-28s", tc.name)
		med := make([]float64, len(modes))
		for m := range modes {
			s := kbench.Summarize(res[t][m])
			med[m] = s.Median
			fmt.Printf("%26s", fmt.Sprintf("%.1f [%.1f-%.1f]", s.Median, s.Min, s.Max))
		}
		fmt.Printf("%14.2f", med[1]/med[0])
		if len(modes) > 2 {
			fmt.Printf("%14.2f", med[2]/med[1])
		} else {
			fmt.Printf("%14s", "no V2 here")
		}
		fmt.Println()
	}
	return nil
}
