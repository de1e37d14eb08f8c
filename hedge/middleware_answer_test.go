package hedge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// When the run writing through ends badly — its context ends before its
// handler returns, or the handler panics — the body may be incomplete, so
// ServeHTTP panics (http.ErrAbortHandler, or the handler's value) for
// net/http to break the connection instead of ending the body as if whole.
func TestMiddlewareLargeResponseAborted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		handler   func(w http.ResponseWriter, r *http.Request)
		wantPanic any
		wantErr   error
	}{
		{"Timeout elapses while writing", 30 * time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if writeChunks(w, 1, 40, 5*time.Millisecond) != nil {
					return
				}
			}
		}, http.ErrAbortHandler, context.DeadlineExceeded},
		{"handler panics while writing", 0, func(w http.ResponseWriter, r *http.Request) {
			writeChunks(w, 5, 40, time.Millisecond)
			panic("handler bug")
		}, "handler bug", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var info CompleteInfo
				m := NewMiddleware(MiddlewareConfig{
					Config:      Config{Delay: time.Second, OnComplete: func(i CompleteInfo) { info = i }},
					MaxResponse: 100,
					Timeout:     tc.timeout,
				})
				h := m.Handler(http.HandlerFunc(tc.handler))
				rec := httptest.NewRecorder()
				assert.PanicsWithValue(t, tc.wantPanic, func() {
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
				})
				assert.Equal(t, 200, rec.Code, "the head was written before the abort")
				assert.Equal(t, 1, info.Winner)
				if tc.wantErr != nil {
					assert.ErrorIs(t, info.Err, tc.wantErr)
				} else {
					assert.ErrorContains(t, info.Err, "panicked")
				}
			})
		})
	}
}

// brokenWriter is a client connection that breaks after a few writes.
type brokenWriter struct {
	*httptest.ResponseRecorder
	writes int
}

var errBroken = errors.New("connection broken")

func (w *brokenWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes > 2 {
		return 0, errBroken
	}
	return w.ResponseRecorder.Write(p)
}

func (w *brokenWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// When the client stops taking a body written through, the handler's
// writes fail with the client's error, as they would without the
// middleware.
func TestMiddlewareLargeResponseClientBroken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Second}, MaxResponse: 100})
		var writeErr error
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeErr = writeChunks(w, 20, 40, time.Millisecond)
		}))
		w := &brokenWriter{ResponseRecorder: httptest.NewRecorder()}
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.ErrorIs(t, writeErr, errBroken)
		assert.Equal(t, 3, w.writes, "the head, then one chunk, then the failing one")
	})
}
