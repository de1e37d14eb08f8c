package breaker

import (
	"net/http"

	"github.com/tailguard/tailguard/internal/hostkey"
)

// key identifies a breaker in the registry. For the default keying it is
// the request's scheme, host name and port as separate fields, which a
// lookup fills from the request URL without building a string: a
// concatenated "scheme://host:port" would cost an allocation per request.
// With Config.Key the user's string goes in Host and the rest stays zero.
type key = hostkey.Key

// requestKey returns the registry key for req.
func (b *Breaker) requestKey(req *http.Request) key {
	if b.s.key != nil {
		return key{Host: b.s.key(req)}
	}
	return hostkey.FromURL(req.URL)
}

// parseKey inverts [hostkey.Key.String] for [Breaker.StateOf]. ok is false
// for a string that no request could have produced.
func (b *Breaker) parseKey(s string) (k key, ok bool) {
	if b.s.key != nil {
		return key{Host: s}, true
	}
	return hostkey.Parse(s)
}
