// Command rseq shows what restartable sequences this kernel and process
// support, and what they buy on this machine.
//
//	rseq info [-json]        what the kernel and process support, and why not
//	rseq bench [flags]       per-CPU counter vs a shared atomic counter, and the
//	                         kernel's param_test workloads vs the usual Go way
//	rseq bench kernel        kernel exit cost: unregistered, legacy and V2 registrations
//	rseq stress [flags]      torture test of the primitives and structures
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "info":
		err = runInfo(os.Args[2:])
	case "bench":
		err = runBench(os.Args[2:])
	case "stress":
		err = runStress(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "rseq: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h: the flag set printed the help; asking for it is no error.
	case err != nil:
		fmt.Fprintln(os.Stderr, "rseq:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: rseq <command> [flags]

commands:
  info    what this kernel and process support (-json for JSON)
  bench   per-CPU counter against a shared atomic counter, and the kernel's
          rseq param_test workloads (increment, spinlock, list, buffer,
          memcpy) against the usual Go way, on this machine (-h for more)
  bench kernel   syscall and context-switch cost with threads unregistered,
          registered for legacy mode (32 bytes) and for V2 (Linux 7.0+)
  stress  torture test: invariants under yields, signals, delays (-h for more)
`)
}
