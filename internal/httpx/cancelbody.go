package httpx

import (
	"context"
	"io"
	"net/http"
)

// CancelOnClose makes cancel run when the caller closes resp's body (or, with
// a nil body, at once).
//
// A stage that gives an attempt its own cancelable context must not cancel
// it when RoundTrip returns: the body is still being read under that context,
// and canceling it turns the caller's read into "context canceled" (the bug
// hedgedhttp #1 and failsafe-go #65 describe). The context is released when
// the caller is done instead.
func CancelOnClose(resp *http.Response, cancel context.CancelFunc) {
	if resp.Body == nil {
		cancel()
		return
	}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
		// A 101 Switching Protocols body is a read-write connection; keep
		// its type so callers can still write to it.
		resp.Body = &cancelRWC{ReadWriteCloser: rwc, cancel: cancel}
		return
	}
	resp.Body = &CancelBody{ReadCloser: resp.Body, Cancel: cancel}
}

// CancelBody is the wrapper [CancelOnClose] installs for an ordinary body:
// Close closes the body, then runs Cancel. It is exported so that a stage
// can embed one in a record it allocates anyway (the hedge stage's race),
// saving CancelOnClose's allocation; it must not wrap a 101 read-write body.
type CancelBody struct {
	io.ReadCloser
	Cancel context.CancelFunc
}

// Close implements io.Closer.
func (b *CancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.Cancel() // CancelFuncs are idempotent: a second Close is harmless
	return err
}

type cancelRWC struct {
	io.ReadWriteCloser
	cancel context.CancelFunc
}

func (b *cancelRWC) Close() error {
	err := b.ReadWriteCloser.Close()
	b.cancel() // CancelFuncs are idempotent: a second Close is harmless
	return err
}
