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
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel() // CancelFuncs are idempotent: a second Close is harmless
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
