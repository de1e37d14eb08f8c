package lab

import (
	"net/http"
	"net/http/httptest"
)

// InMemory returns a transport that serves each request with h directly,
// on the caller's goroutine: no socket, no connection pool, no
// background goroutine. Inside a testing/synctest bubble the whole
// exchange then runs on the fake clock, which real network I/O would
// stop (a goroutine blocked on a socket is never durably blocked).
//
// A request whose context is done before or while h runs fails with the
// context's error, as net/http's transport would; the request body, if
// any, is closed. The response body is the handler's buffered output.
func InMemory(h http.Handler) http.RoundTripper { return inMemory{h} }

type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A server-side request always has a body (http.NoBody at least);
	// handlers rely on it. The caller's request is not modified.
	sreq := req
	if req.Body == nil {
		sreq = req.WithContext(ctx)
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
