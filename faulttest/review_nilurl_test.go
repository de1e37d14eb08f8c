package faulttest_test

import (
	"net/http"
	"testing"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
)

func TestNilURL(t *testing.T) {
	for name, rt := range map[string]http.RoundTripper{
		"hedge":   hedge.New(hedge.Config{}).Wrap(http.DefaultTransport),
		"retry":   retry.New(retry.Config{}).Wrap(http.DefaultTransport),
		"breaker": breaker.New(breaker.Config{}).Wrap(http.DefaultTransport),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("panic: %v", p)
				}
			}()
			_, err := rt.RoundTrip(&http.Request{Method: "GET", Header: http.Header{}})
			t.Logf("err: %v", err)
		})
	}
}
