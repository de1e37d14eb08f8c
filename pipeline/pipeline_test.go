package pipeline_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
)

// tag returns a stage that appends name to the X-Path request header on the
// way in and to the response's X-Path on the way out, so order is visible.
func tag(name string) pipeline.Stage {
	return pipeline.StageFunc(func(next http.RoundTripper) http.RoundTripper {
		return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			r := req.Clone(req.Context())
			r.Header.Set("X-Path", req.Header.Get("X-Path")+">"+name)
			resp, err := next.RoundTrip(r)
			if err == nil {
				resp.Header.Set("X-Path", resp.Header.Get("X-Path")+"<"+name)
			}
			return resp, err
		})
	})
}

func TestOrderFirstStageIsOutermost(t *testing.T) {
	var seen string
	base := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		seen = req.Header.Get("X-Path")
		return testkit.Respond(req, 200, "", nil), nil
	})
	tests := []struct {
		stages  []string
		wantIn  string
		wantOut string
	}{
		{nil, "", ""},
		{[]string{"a"}, ">a", "<a"},
		{[]string{"hedge", "retry", "breaker"}, ">hedge>retry>breaker", "<breaker<retry<hedge"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.stages, ","), func(t *testing.T) {
			var stages []pipeline.Stage
			for _, s := range tt.stages {
				stages = append(stages, tag(s))
			}
			p := pipeline.NewWithBase(base, stages...)
			req, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
			resp, err := p.RoundTrip(req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantIn, seen)
			assert.Equal(t, tt.wantOut, resp.Header.Get("X-Path"))
			assert.Empty(t, req.Header.Get("X-Path"), "the caller's request is untouched")
		})
	}
}

func TestNewUsesDefaultTransport(t *testing.T) {
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	client := pipeline.New(tag("a")).Client()
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "<a", resp.Header.Get("X-Path"))
	client.CloseIdleConnections()
}

type idleCloser struct {
	http.RoundTripper
	closed bool
}

func (c *idleCloser) CloseIdleConnections() { c.closed = true }

func TestCloseIdleConnectionsReachesBase(t *testing.T) {
	base := &idleCloser{RoundTripper: http.DefaultTransport}
	pipeline.NewWithBase(base, tag("a")).Client().CloseIdleConnections()
	assert.True(t, base.closed)
}

func TestWrapPanicsOnNilStage(t *testing.T) {
	assert.PanicsWithValue(t, "pipeline: stage is nil", func() { pipeline.New(nil) })
	nilRT := pipeline.StageFunc(func(http.RoundTripper) http.RoundTripper { return nil })
	assert.PanicsWithValue(t, "pipeline: stage returned a nil http.RoundTripper", func() { pipeline.New(nilRT) })
}

func TestWrapNilBaseIsDefaultTransport(t *testing.T) {
	var got http.RoundTripper
	pipeline.NewWithBase(nil, pipeline.StageFunc(func(next http.RoundTripper) http.RoundTripper {
		got = next
		return next
	}))
	assert.Equal(t, http.DefaultTransport, got)
}
