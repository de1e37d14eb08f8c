package testkit

import (
	"os"
	"sync"
	"testing"
	"time"
)

// OpenFDs returns how many file descriptors this process has open, by
// listing /proc/self/fd, or -1 where that directory does not exist (not
// Linux). Sockets of loopback servers count too, client and server side.
//
// The runtime's network poller (on Linux an epoll descriptor and an
// eventfd) is opened by a process's first socket or pipe and stays open
// for the life of the process; OpenFDs opens it before its first count, so
// that a count taken before the first network use does not see the
// poller's descriptors as growth (running one test alone, as with
// go test -run TestMatrix, made its first cell fail with 2 "leaked").
func OpenFDs() int {
	openPoller.Do(func() {
		if r, w, err := os.Pipe(); err == nil {
			r.Close()
			w.Close()
		}
	})
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	// ReadDir itself holds one descriptor open for the directory while
	// listing it; it is closed again before returning.
	return len(entries) - 1
}

// openPoller opens the runtime's network poller once (see [OpenFDs]).
var openPoller sync.Once

// FDGrowth waits up to wait for the open descriptor count to fall back to
// at most before+slack, and returns the growth last seen (0 when it did,
// or when descriptors cannot be counted). Connections close
// asynchronously (a canceled request's conn is closed by the transport's
// goroutines, the server side after it reads EOF), hence the wait: a real
// leak does not go away however long one waits.
func FDGrowth(before, slack int, wait time.Duration) int {
	if before < 0 {
		return 0
	}
	deadline := time.Now().Add(wait)
	for {
		grown := OpenFDs() - before
		if grown <= slack {
			return 0
		}
		if time.Now().After(deadline) {
			return grown
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CheckFDs records the descriptor count now and, at test end (after the
// cleanups registered later, such as servers and transports, have run),
// fails the test if it grew by more than slack and did not come back
// within 2 s.
func CheckFDs(t testing.TB, slack int) {
	t.Helper()
	before := OpenFDs()
	t.Cleanup(func() {
		if g := FDGrowth(before, slack, 2*time.Second); g > 0 {
			t.Errorf("file descriptors grew by %d (slack %d): %d before, %d after", g, slack, before, OpenFDs())
		}
	})
}
