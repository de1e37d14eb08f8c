package idempotency

import "net/http"

// StatusKind classifies a response status code by the table alone:
//
//	100–399                       Success
//	408, 425                      Transient
//	429                           Throttled
//	other 400–499                 Final
//	501, 505                      Fatal
//	other 500–599 (503 included)  Transient
//	below 100 or above 599        Transient
//
// A 503 is Transient and a 403 Final here; [Classifier.Classify] of
// [Default] upgrades a 503 to Throttled when its Retry-After asks for a
// pause, and a 403 when it carries such a Retry-After or
// X-RateLimit-Remaining: 0, which StatusKind cannot see. 501 (Not Implemented) and 505 (HTTP Version Not Supported) describe
// the request, not the server's state, so repeating it cannot help. Codes
// outside 100–599 belong to no class of RFC 9110 §15; a peer that sends one
// is misbehaving, which is treated like a 500.
func StatusKind(code int) Kind {
	switch {
	case code < 100 || code > 599:
		return Transient
	case code < 400:
		return Success
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly:
		return Transient
	case code == http.StatusTooManyRequests:
		return Throttled
	case code < 500:
		return Final
	case code == http.StatusNotImplemented, code == http.StatusHTTPVersionNotSupported:
		return Fatal
	default:
		return Transient
	}
}
