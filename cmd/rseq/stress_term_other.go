//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

import "os"

// isTerminal: plain lines wherever termios is not at hand.
func isTerminal(*os.File) bool { return false }
