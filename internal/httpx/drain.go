package httpx

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DrainLimit is how much of a discarded response body [Drain] reads before
// closing it. Reading the rest of a small body lets net/http put the
// connection back in the keep-alive pool; a body larger than this is cheaper
// to abandon (the connection is closed) than to download. It is set above
// 100 KB because error pages from proxies and frameworks often run that large,
// and 4 KiB (go-retryablehttp's choice) kills keep-alive for them.
const DrainLimit = 256 << 10

// DrainTimeout is how long [Drain] reads a discarded body before it gives up
// and closes it. A body that trickles or stalls (a proxy's error page behind
// a slow upstream) would otherwise hold its goroutine, its connection and,
// where a drain sits between two attempts, the next attempt: a hedge that
// drained a stalled 503 before returning the winner held a ready 200 for 3 s
// (issue 11, bug 3). Half a second is about what a fresh connection costs
// on a slow path (TCP and TLS handshakes at a 100 ms round trip), so a drain
// that takes longer saves nothing.
const DrainTimeout = 500 * time.Millisecond

// Drain reads at most [DrainLimit] bytes of resp's body for at most
// [DrainTimeout], closes it, and then calls release, if not nil (a stage
// passes the attempt's cancel function: canceling only after the drain
// keeps the connection reusable). It blocks for up to DrainTimeout, so call
// it only where nothing waits on it: a goroutine of its own ([Discard]),
// or between two attempts where the wait overlaps a backoff.
//
// A 101 Switching Protocols body (an io.ReadWriteCloser: a raw connection
// that never ends) is closed, never read. When the time runs out, release
// runs first (canceling an attempt's context aborts net/http's read), then
// the body is closed, which also unblocks a read in net/http. A body whose
// Read ignores both keeps its goroutine until Read returns; nothing waits
// for it. A panic in the body's methods is recovered and dropped: no one is
// left to receive it. Drain is safe with a nil response or a nil body.
func Drain(resp *http.Response, release func()) {
	if empty(resp) {
		if release != nil {
			release()
		}
		return
	}
	var released atomic.Bool
	releaseOnce := func() {
		if release != nil && released.CompareAndSwap(false, true) {
			release()
		}
	}
	defer func() {
		_ = recover() // see above: a discarded body's bug has no caller left
		releaseOnce()
	}()
	body := resp.Body
	if upgraded(resp) {
		_ = body.Close()
		return
	}
	timer := time.AfterFunc(DrainTimeout, func() {
		defer func() { _ = recover() }()
		releaseOnce()
		_ = body.Close()
	})
	_, _ = io.CopyN(io.Discard, body, DrainLimit)
	if timer.Stop() {
		_ = body.Close()
	}
}

// Discard drains and closes resp's body, as [Drain] does, on a goroutine of
// its own, and returns at once: a response that is discarded never delays
// the caller. release, if not nil, runs after the body is closed.
func Discard(resp *http.Response, release func()) {
	if empty(resp) {
		if release != nil {
			release()
		}
		return
	}
	go Drain(resp, release)
}

// DrainFor drains resp as [Drain] does, but waits for the drain at most
// for d, or until ctx ends: a drain that takes longer goes on in the
// background, within Drain's bounds, and release (if not nil) runs when it
// ends. It reports whether the drain was over when DrainFor returned.
//
// A stage that drains a failed response before its next attempt calls it
// with the backoff delay, during which it waits anyway: a small body is
// read to its end in that time, so the next attempt reuses the
// connection; a body that trickles or stalls no longer holds the next
// attempt up to DrainTimeout (with the retry stage's 25 ms default
// backoff, a stalled error body stretched the first retry to 500 ms).
func DrainFor(ctx context.Context, resp *http.Response, release func(), d time.Duration) bool {
	if empty(resp) {
		if release != nil {
			release()
		}
		return true
	}
	if d <= 0 {
		go Drain(resp, release)
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Drain(resp, release)
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// upgraded reports whether resp's body is a switched-protocol connection,
// which must be closed, never drained: a read on it ends only when the peer
// hangs up.
func upgraded(resp *http.Response) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return true
	}
	_, rw := resp.Body.(io.Writer)
	return rw
}

// empty reports whether resp has nothing to drain: no response, no body, or
// [http.NoBody]. Such a response is settled on the spot, with no goroutine
// or timer: most discarded answers in tests, and HEAD or 204 answers in
// production, have no body, and a goroutine per discard would be pure cost
// (and made allocation counts depend on the scheduler).
func empty(resp *http.Response) bool {
	return resp == nil || resp.Body == nil || resp.Body == http.NoBody
}
