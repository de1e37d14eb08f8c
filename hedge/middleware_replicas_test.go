package hedge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMiddlewareRunsPickReplicas proves the recipe the Middleware
// documents for backends with replicas: a handler that picks its backend
// by run sends the hedge run to the other replica, and escapes the stalled
// one.
func TestMiddlewareRunsPickReplicas(t *testing.T) {
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer stalled.Close()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "healthy")
	}))
	defer healthy.Close()
	backends := []string{stalled.URL, healthy.URL}
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backend := backends[max(CopyFrom(r.Context())-1, 0)%len(backends)]
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, backend, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})
	m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 20 * time.Millisecond}})
	rec := httptest.NewRecorder()
	m.Handler(handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "healthy", rec.Body.String())
	assert.Equal(t, uint64(1), m.Stats().HedgeWins)
}
