package hedge

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestReadBody(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		body, ok, rest := readBody(req, 10)
		assert.True(t, ok)
		assert.Empty(t, body)
		assert.Nil(t, rest)
	})
	t.Run("fits", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("0123456789"))
		body, ok, _ := readBody(req, 10)
		assert.True(t, ok)
		assert.Equal(t, "0123456789", string(body))
	})
	t.Run("over the cap is replayed whole", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("0123456789A"))
		_, ok, rest := readBody(req, 10)
		require.False(t, ok)
		b, err := io.ReadAll(rest)
		require.NoError(t, err)
		assert.Equal(t, "0123456789A", string(b))
		assert.NoError(t, rest.Close())
	})
	t.Run("no limit (math.MaxInt64) keeps the body", func(t *testing.T) {
		// limit+1 wrapped to a negative limit, which read nothing: every
		// run saw an empty body (issue 11).
		req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("payload"))
		body, ok, _ := readBody(req, math.MaxInt64)
		assert.True(t, ok)
		assert.Equal(t, "payload", string(body))
	})
	t.Run("a huge Content-Length is not allocated up front", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("payload"))
		req.ContentLength = 1 << 40 // a claim, not bytes received
		body, ok, _ := readBody(req, math.MaxInt64)
		assert.True(t, ok)
		assert.Equal(t, "payload", string(body))
		assert.LessOrEqual(t, cap(body), DefaultMaxBody+bytes.MinRead)
	})
	t.Run("a read error reaches the handler after the bytes read", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPut, "/", &testkit.FailingReader{N: 3})
		_, ok, rest := readBody(req, 10)
		require.False(t, ok)
		b, err := io.ReadAll(rest)
		assert.Equal(t, "xxx", string(b))
		assert.ErrorIs(t, err, testkit.ErrRead)
	})
}

// An outer http.MaxBytesHandler's error reaches the handler, which can
// answer 413, as it would without the middleware; the request runs once.
func TestMiddlewareMaxBytesErrorReachesHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runs := 0
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := http.MaxBytesHandler(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs++
			b, err := io.ReadAll(r.Body)
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "too large after "+string(b), http.StatusRequestEntityTooLarge)
			}
		})), 5)
		rec := serve(h, httptest.NewRequest(http.MethodPut, "/", strings.NewReader("0123456789")))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "too large after 01234\n", rec.Body.String())
		assert.Equal(t, 1, runs)
		assert.Equal(t, Stats{Requests: 1, PassThrough: 1}, m.Stats())
	})
}

// MaxBody math.MaxInt64 means "buffer any body": every run reads the whole
// of it (it read none: the limit wrapped around, issue 11).
func TestMiddlewareUnlimitedMaxBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got sync.Map
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxBody: math.MaxInt64})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got.Store(CopyFrom(r.Context()), string(b))
			if !IsHedge(r.Context()) {
				<-r.Context().Done()
			}
		}))
		serve(h, httptest.NewRequest(http.MethodPut, "/", strings.NewReader("payload")))
		synctest.Wait()
		for _, n := range []int{1, 2} {
			b, _ := got.Load(n)
			assert.Equal(t, "payload", b, "run %d", n)
		}
	})
}

// DefaultMaxBody is the client stage's buffering limit, spelled as a
// number so that go doc shows 1 MiB rather than an internal name.
func TestDefaultMaxBody(t *testing.T) {
	assert.Equal(t, httpx.DefaultMaxBufferedBody, DefaultMaxBody)
}
