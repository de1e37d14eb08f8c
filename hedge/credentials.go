package hedge

import (
	"net/http"
	"strings"
)

// credentialHeaders are the request headers that carry a client's
// credentials to an origin. A stage with Replicas sends them to listed
// replicas only (see [Replicas], "Safety").
var credentialHeaders = [...]string{"Authorization", "Cookie", "Proxy-Authorization"}

// withoutCredentials returns req if it carries no credentials, else a
// shallow copy without credential headers and without user information
// in its URL. req itself is never modified.
//
// Header names are compared case-insensitively: a header set through the
// map with a non-canonical name ("authorization") is still written to the
// wire by net/http.
func withoutCredentials(req *http.Request) *http.Request {
	strip := req.URL.User != nil
	for name := range req.Header {
		if isCredential(name) {
			strip = true
			break
		}
	}
	if !strip {
		return req
	}
	r := req.WithContext(req.Context()) // a shallow copy
	if req.URL.User != nil {
		u := *req.URL
		u.User = nil
		r.URL = &u
	}
	r.Header = req.Header.Clone()
	for name := range r.Header {
		if isCredential(name) {
			delete(r.Header, name)
		}
	}
	return r
}

func isCredential(name string) bool {
	for _, c := range credentialHeaders {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}
