package pipeline

import "net/http"

// Stage wraps a transport with some behaviour. Wrap is called once, when the
// pipeline is built; the RoundTripper it returns serves every request.
type Stage interface {
	Wrap(next http.RoundTripper) http.RoundTripper
}

// StageFunc adapts a function to [Stage], so a plug-in is one line.
type StageFunc func(next http.RoundTripper) http.RoundTripper

// Wrap calls f(next).
func (f StageFunc) Wrap(next http.RoundTripper) http.RoundTripper { return f(next) }

// RoundTripperFunc adapts a function to [http.RoundTripper]; with
// [StageFunc] it builds a stage from two closures.
type RoundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f(req).
func (f RoundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
