package breaker

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// key identifies a breaker in the registry. For the default keying it is
// the request's scheme, host name and port as separate fields, which a
// lookup can fill from the request URL without building a string: a
// concatenated "scheme://host:port" would cost an allocation per request.
// With Config.Key the user's string goes in host and the rest stays zero.
type key struct {
	scheme string
	host   string
	port   uint16
}

// requestKey returns the registry key for req.
func (b *Breaker) requestKey(req *http.Request) key {
	if b.s.key != nil {
		return key{host: b.s.key(req)}
	}
	u := req.URL
	// Host names are case-insensitive (RFC 4343), so API.example.com and
	// api.example.com share a breaker. ToLower returns an already lower-case
	// name as is, without allocating.
	return key{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: urlPort(u.Scheme, u.Port())}
}

// urlPort parses a URL port, defaulting it for http and https as
// net/http's Transport does when it dials. An unparsable port (which
// url.Parse would have refused) is 0.
func urlPort(scheme, port string) uint16 {
	if port == "" {
		switch scheme {
		case "http":
			return 80
		case "https":
			return 443
		}
		return 0
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

// String returns the key as users see it: "scheme://host:port" (IPv6 hosts
// in brackets, as in URLs; no port when it is unknown), or the string
// Config.Key returned. It allocates, so it is called once per breaker.
func (k key) String() string {
	if k.scheme == "" && k.port == 0 {
		return k.host
	}
	host := k.host
	if k.port != 0 {
		host = net.JoinHostPort(k.host, strconv.Itoa(int(k.port)))
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return k.scheme + "://" + host
}

// parseKey inverts [key.String] for [Breaker.State]. ok is false for a
// string that no request could have produced.
func (b *Breaker) parseKey(s string) (k key, ok bool) {
	if b.s.key != nil {
		return key{host: s}, true
	}
	scheme, hostport, found := strings.Cut(strings.ToLower(s), "://")
	if !found || scheme == "" {
		return key{}, false
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: "scheme://host" or "scheme://[v6]".
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
		return key{scheme: scheme, host: host}, true
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return key{}, false
	}
	return key{scheme: scheme, host: host, port: uint16(n)}, true
}
