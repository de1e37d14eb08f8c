package pipeline

import (
	"net/http"

	"github.com/tailguard/tailguard/internal/httpx"
)

// Pipeline is an [http.RoundTripper] made of stages over a base transport.
type Pipeline struct {
	rt   http.RoundTripper
	base http.RoundTripper
}

// New returns a pipeline of stages over [http.DefaultTransport]; the first
// stage is the outermost. With no stages it is the default transport. It is
// NewWithBase(nil, stages...).
func New(stages ...Stage) *Pipeline {
	return NewWithBase(http.DefaultTransport, stages...)
}

// NewWithBase returns a pipeline of stages over base, the transport the
// innermost stage sends through; the first stage is the outermost. A nil
// base means [http.DefaultTransport]. It panics if a stage is nil or returns a nil
// transport, both programmer errors that would otherwise surface as a nil
// dereference on the first request.
func NewWithBase(base http.RoundTripper, stages ...Stage) *Pipeline {
	if base == nil {
		base = http.DefaultTransport
	}
	rt := base
	for i := len(stages) - 1; i >= 0; i-- {
		if stages[i] == nil {
			panic("pipeline: stage is nil")
		}
		rt = stages[i].Wrap(rt)
		if rt == nil {
			panic("pipeline: stage returned a nil http.RoundTripper")
		}
	}
	return &Pipeline{rt: rt, base: base}
}

// RoundTrip sends req through the stages.
func (p *Pipeline) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.rt.RoundTrip(req)
}

// Client returns a new *http.Client whose Transport is p.
func (p *Pipeline) Client() *http.Client {
	return &http.Client{Transport: p}
}

// CloseIdleConnections closes the base transport's idle connections if it
// supports that, so [http.Client.CloseIdleConnections] reaches through the
// stages.
func (p *Pipeline) CloseIdleConnections() { httpx.CloseIdle(p.base) }
