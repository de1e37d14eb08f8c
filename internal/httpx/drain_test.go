package httpx

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestDiscardNilSafe(t *testing.T) {
	Discard(nil)
	Discard(&http.Response{})
}

func TestDiscardClosesAndBoundsRead(t *testing.T) {
	var tr testkit.Tracker
	big := strings.Repeat("e", DrainLimit*3)
	resp := testkit.Respond(nil, 503, big, &tr)
	Discard(resp)
	assert.Zero(t, tr.Open())
	left := resp.Body.(*testkit.Body).Len()
	assert.Equal(t, len(big)-DrainLimit, left, "reads exactly DrainLimit bytes, no more")
}

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
		Discard(resp)
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
