//go:build unix

package main

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// startSignals installs a handler that drains SIGUSR1 (if on) and returns
// the function that removes it.
func startSignals(on bool) func() {
	if !on {
		return func() {}
	}
	ch := make(chan os.Signal, 64)
	signal.Notify(ch, unix.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
