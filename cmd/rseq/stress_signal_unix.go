//go:build unix && !linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// sendSignal sends SIGUSR1 to the process.
func (w *worker) sendSignal() { unix.Kill(os.Getpid(), unix.SIGUSR1) }
