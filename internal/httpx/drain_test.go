package httpx

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestDrainNilSafe(t *testing.T) {
	Drain(nil, nil)
	Drain(&http.Response{}, nil)
	Discard(nil, nil)
	released := 0
	Discard(&http.Response{}, func() { released++ })
	assert.Equal(t, 1, released, "release runs even with nothing to drain")
}

func TestDrainClosesAndBoundsRead(t *testing.T) {
	var tr testkit.Tracker
	big := strings.Repeat("e", DrainLimit*3)
	resp := testkit.Respond(nil, 503, big, &tr)
	released := false
	Drain(resp, func() { released = true })
	assert.Zero(t, tr.Open())
	assert.True(t, released)
	left := resp.Body.(*testkit.Body).Len()
	assert.Equal(t, len(big)-DrainLimit, left, "reads exactly DrainLimit bytes, no more")
}

// stalledBody sends nothing until it is closed or its context ends, like
// an error page whose upstream hangs after the headers.
type stalledBody struct {
	ctx    context.Context
	closed chan struct{}
}

func newStalledBody(ctx context.Context) *stalledBody {
	return &stalledBody{ctx: ctx, closed: make(chan struct{})}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	select {
	case <-b.closed:
		return 0, io.ErrClosedPipe
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	}
}

func (b *stalledBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// A stalled body is given up after DrainTimeout: the attempt's context is
// released, the body closed. Discard returns at once (issue 11, bug 3).
func TestDrainBoundedInTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		abort string // what ends the stalled read: closing the body, or canceling its context
	}{{"close", "close"}, {"context", "context"}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				bodyCtx := context.Background()
				if tc.abort == "context" {
					bodyCtx = ctx
				}
				body := newStalledBody(bodyCtx)
				resp := &http.Response{StatusCode: 503, Body: body}
				start := time.Now()
				Discard(resp, cancel)
				assert.Zero(t, time.Since(start), "Discard never waits")
				synctest.Wait()
				assert.NoError(t, ctx.Err(), "still draining")
				time.Sleep(DrainTimeout)
				synctest.Wait()
				assert.ErrorIs(t, ctx.Err(), context.Canceled, "released at DrainTimeout")
				select {
				case <-body.closed:
				default:
					t.Error("body not closed at DrainTimeout")
				}
			})
		})
	}
}

// A 101 Switching Protocols body is a raw connection: closed, never read
// (issue 11, bug 2: draining one never ends).
func TestDrainClosesUpgradedBodyWithoutReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		switched := testkit.NewStalledBody()
		for _, resp := range []*http.Response{
			{StatusCode: http.StatusSwitchingProtocols, Body: switched},
			{StatusCode: 200, Body: rwc{testkit.NewStalledBody(), io.Discard}},
		} {
			start := time.Now()
			Drain(resp, nil)
			assert.Zero(t, time.Since(start), "closed without reading")
		}
		assert.True(t, switched.Closed())
	})
}

// A body that panics while being drained in the background does not take
// the process down, and its attempt is still released.
func TestDiscardRecoversPanickingBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		released := make(chan struct{})
		Discard(&http.Response{Body: panicBody{}}, func() { close(released) })
		<-released
	})
}

type panicBody struct{}

func (panicBody) Read([]byte) (int, error) { panic("body bug") }
func (panicBody) Close() error             { return nil }

// A discarded 100 KB error body must not cost the keep-alive connection.
func TestDiscardKeepsConnectionAlive(t *testing.T) {
	errBody := strings.Repeat("x", 100_000)
	srv, conns := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, errBody)
	}))
	client := &http.Client{Transport: testkit.Transport(t)}
	for range 5 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		drained := make(chan struct{})
		Discard(resp, func() { close(drained) })
		<-drained
	}
	assert.Equal(t, 1, conns.New(), "every request reused the first connection")
}

// Without draining, the same sequence needs a new connection per request:
// the test above would fail if Discard only closed.
func TestCloseWithoutDrainLosesConnection(t *testing.T) {
	errBody := strings.Repeat("x", 100_000)
	srv, conns := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, errBody)
	}))
	client := &http.Client{Transport: testkit.Transport(t)}
	for range 3 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, 3, conns.New())
}

// DrainFor waits for a drain at most d: a small body is read to its end
// and closed before it returns; a stalled one is left to drain in the
// background, still closed within DrainTimeout; a nil response or body
// returns at once.
func TestDrainFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		small := testkit.Respond(nil, 503, "error page", &tr)
		released := false
		assert.True(t, DrainFor(t.Context(), small, func() { released = true }, time.Second))
		assert.Zero(t, tr.Open())
		assert.True(t, released)

		stalled := newStalledBody(t.Context())
		start := time.Now()
		assert.False(t, DrainFor(t.Context(), &http.Response{StatusCode: 503, Body: stalled}, nil, 25*time.Millisecond))
		assert.Equal(t, 25*time.Millisecond, time.Since(start), "no longer than asked")
		time.Sleep(DrainTimeout)
		synctest.Wait()
		select {
		case <-stalled.closed:
		default:
			t.Error("not closed in the background within DrainTimeout")
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		stalled = newStalledBody(t.Context())
		assert.False(t, DrainFor(ctx, &http.Response{StatusCode: 503, Body: stalled}, nil, time.Hour), "the caller left")
		assert.True(t, DrainFor(t.Context(), nil, nil, time.Hour))
		time.Sleep(DrainTimeout)
		synctest.Wait()
	})
}

// TestEmptyBodySettledInPlace: a response without a body to drain starts no
// goroutine and arms no timer: release runs at once, and nothing allocates.
// A goroutine per empty discard made the retry stage's allocation count
// depend on the scheduler (TestSilentLogAllocs saw 6 or 7).
func TestEmptyBodySettledInPlace(t *testing.T) {
	if testkit.RaceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	resp := &http.Response{StatusCode: 503, Body: http.NoBody}
	released := 0
	release := func() { released++ }
	tests := []struct {
		name string
		call func()
	}{
		{"Drain", func() { Drain(resp, release) }},
		{"Discard", func() { Discard(resp, release) }},
		{"DrainFor", func() { DrainFor(context.Background(), resp, release, time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			released = 0
			assert.Zero(t, testing.AllocsPerRun(100, tt.call))
			assert.Equal(t, 101, released, "release runs once per call, before the call returns")
		})
	}
}
