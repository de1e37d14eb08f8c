package httpx

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Attempt returns the request to send as attempt n (1-based) under ctx.
//
// The first attempt sends req's own body, which the transport then closes.
// Every later attempt gets a fresh body from GetBody, so no two attempts
// ever share a reader. req must have come from [Replayable] with ok true when
// n > 1.
func Attempt(ctx context.Context, req *http.Request, n int) (*http.Request, error) {
	body, err := AttemptBody(req, n)
	if err != nil {
		return nil, err
	}
	r := req.WithContext(ctx)
	r.Body = body
	return r, nil
}

// AttemptBody returns the body to send as attempt n of req, as [Attempt]
// does: req's own body for the first attempt (or when it has none), a
// fresh one from GetBody for every later one. A stage that must know
// whether an attempt can be sent before it lets go of the previous one's
// result calls it first: when it fails, nothing was sent.
func AttemptBody(req *http.Request, n int) (io.ReadCloser, error) {
	if n <= 1 || req.Body == nil || req.Body == http.NoBody {
		return req.Body, nil
	}
	if req.GetBody == nil {
		return nil, fmt.Errorf("attempt %d: request body cannot be replayed (no GetBody)", n)
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("attempt %d: GetBody: %w", n, err)
	}
	return body, nil
}

// Upgrade reports whether req asks to switch protocols (an Upgrade header:
// WebSocket, h2c). Such a request must be sent once: its answer, a 101, turns
// the connection into a stream that only the one caller can use, and a
// duplicate's would have to be torn down, never drained. Hedge stages, client
// and server side, pass it through.
func Upgrade(req *http.Request) bool {
	return len(req.Header["Upgrade"]) > 0
}
