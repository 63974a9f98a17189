//go:build unix

package rseq

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// signalStorm sends SIGUSR1 to the whole process every 50µs (and drains
// them) until the returned function is called.
func signalStorm() (stop func()) {
	sigc := make(chan os.Signal, 64)
	signal.Notify(sigc, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-sigc:
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		pid := os.Getpid()
		for {
			select {
			case <-done:
				return
			default:
			}
			syscall.Kill(pid, syscall.SIGUSR1)
			time.Sleep(50 * time.Microsecond)
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		signal.Stop(sigc)
	}
}
