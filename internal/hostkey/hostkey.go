// Package hostkey names the upstream a request goes to, the way stages that
// keep per-host state key it: scheme, lower-cased host name and port, the
// port defaulted for http and https as net/http's Transport does when it
// dials.
package hostkey

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Key identifies an upstream. It is comparable and built from a request
// URL without allocating (a "scheme://host:port" string would cost one per
// request), so it can key a map on the hot path. A key chosen by the user
// goes in Host, with Scheme and Port zero.
type Key struct {
	Scheme string
	Host   string
	Port   uint16
}

// FromURL returns u's key. Host names are case-insensitive (RFC 4343), so
// API.example.com and api.example.com share a key; strings.ToLower returns
// an already lower-case name as is, without allocating.
func FromURL(u *url.URL) Key {
	return Key{Scheme: u.Scheme, Host: strings.ToLower(u.Hostname()), Port: port(u.Scheme, u.Port())}
}

// port parses a URL port, defaulting it for http and https. An unparsable
// port (which url.Parse would have refused) is 0.
func port(scheme, p string) uint16 {
	if p == "" {
		switch scheme {
		case "http":
			return 80
		case "https":
			return 443
		}
		return 0
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

// String returns the key as users see it: "scheme://host:port" (IPv6 hosts
// in brackets, as in URLs; no port when it is unknown), or the user's key.
// It allocates, so callers compute it once per key.
func (k Key) String() string {
	if k.Scheme == "" && k.Port == 0 {
		return k.Host
	}
	host := k.Host
	if k.Port != 0 {
		host = net.JoinHostPort(k.Host, strconv.Itoa(int(k.Port)))
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return k.Scheme + "://" + host
}

// Parse inverts [Key.String] for a key built by [FromURL], so a stage can
// answer a query about "https://api.example.com:443". The scheme and host
// are lower-cased, as FromURL makes them. ok is false for a string no
// request URL could have produced.
func Parse(s string) (k Key, ok bool) {
	scheme, hostport, found := strings.Cut(strings.ToLower(s), "://")
	if !found || scheme == "" {
		return Key{}, false
	}
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: "scheme://host" or "scheme://[v6]".
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
		return Key{Scheme: scheme, Host: host}, true
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return Key{}, false
	}
	return Key{Scheme: scheme, Host: host, Port: uint16(n)}, true
}
