package faulttest_test

import (
	"net/http"
	"testing"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

type idleCloser struct {
	http.RoundTripper
	closed int
}

func (c *idleCloser) CloseIdleConnections() { c.closed++ }

// http.Client.CloseIdleConnections must reach the base transport through
// every stage, alone or chained (go-retryablehttp #85 instead closed the
// caller's pool on give-up; we only forward the caller's own request).
func TestCloseIdleConnectionsReachesBase(t *testing.T) {
	stages := map[string]pipeline.Stage{
		"retry":   retry.New(retry.Config{}),
		"breaker": breaker.New(breaker.Config{}),
		"hedge":   hedge.New(hedge.Config{}),
	}
	for name, s := range stages {
		t.Run(name, func(t *testing.T) {
			base := &idleCloser{RoundTripper: http.DefaultTransport}
			(&http.Client{Transport: s.Wrap(base)}).CloseIdleConnections()
			if base.closed != 1 {
				t.Errorf("base closed %d times, want 1", base.closed)
			}
		})
	}
	base := &idleCloser{RoundTripper: http.DefaultTransport}
	pipeline.NewWithBase(base, stages["hedge"], stages["retry"], stages["breaker"]).Client().CloseIdleConnections()
	if base.closed != 1 {
		t.Errorf("through the pipeline: base closed %d times, want 1", base.closed)
	}
}
