//go:build cgo && linux

// Package cgotest calls into package rseq from C threads, as cgo programs
// with callbacks do: a C thread that calls an exported Go function runs it
// on one of the runtime's extra Ms, which moves to another C thread once
// the first exits. Only tests use it (cgo_callback_test.go in the root
// package, with -tags rseqcgo); package rseq itself uses no cgo.
package cgotest

/*
#include <pthread.h>
#include <stdint.h>

extern void goAdd(int n);

static void *run(void *arg) {
	goAdd((int)(intptr_t)arg);
	return 0;
}

// spawn starts threads C threads that each call goAdd(n), and joins them.
static int spawn(int threads, int n) {
	pthread_t t[64];
	if (threads > 64)
		threads = 64;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], 0, run, (void *)(intptr_t)n) != 0)
			return -1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], 0);
	return 0;
}
*/
import "C"

import (
	"errors"

	"github.com/gorseq/rseq"
)

var counter rseqCounter

type rseqCounter struct{ c *rseq.Counter }

//export goAdd
func goAdd(n C.int) {
	for range int(n) {
		counter.c.Inc()
	}
}

// Spawn runs threads C threads (at most 64) that each add 1 n times to c,
// from a cgo callback, and waits for them.
func Spawn(c *rseq.Counter, threads, n int) error {
	counter.c = c
	if C.spawn(C.int(threads), C.int(n)) != 0 {
		return errors.New("cgotest: pthread_create failed")
	}
	return nil
}
