package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// sendSignal sends SIGUSR1 to the thread another worker ran on when it last
// signalled (tgkill), so that it lands on a thread likely to be inside a
// critical section; a signal sent to the whole process would go to the
// sender itself, which sits in the kill system call. The first time, with
// no thread known yet, it signals the process.
func (w *worker) sendSignal() {
	tids := w.r.tids
	tids[w.id].Store(int32(unix.Gettid()))
	w.sigSeq++
	t := tids[(w.id+1+int(w.sigSeq%uint64(len(tids))))%len(tids)].Load()
	if t == 0 {
		unix.Kill(os.Getpid(), unix.SIGUSR1)
		return
	}
	unix.Tgkill(os.Getpid(), int(t), unix.SIGUSR1) // ESRCH if it exited: fine
}
