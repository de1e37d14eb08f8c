package httpx

import "net/http"

// CloseIdle closes rt's idle connections if rt can. Every stage's transport
// forwards CloseIdleConnections through it, so that
// [http.Client.CloseIdleConnections] reaches the base transport through any
// number of stages.
func CloseIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
