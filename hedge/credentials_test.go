package hedge

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithoutCredentials: every way a request can carry credentials is
// removed, on a copy; the caller's request keeps them.
func TestWithoutCredentials(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		header http.Header
		want   http.Header
	}{
		{"none", "http://c.example/", http.Header{"Accept": {"*/*"}}, http.Header{"Accept": {"*/*"}}},
		{"canonical", "http://c.example/",
			http.Header{"Authorization": {"Bearer t"}, "Cookie": {"s=1"}, "Proxy-Authorization": {"Basic x"}, "Accept": {"*/*"}},
			http.Header{"Accept": {"*/*"}}},
		{"set through the map, not canonical", "http://c.example/",
			http.Header{"authorization": {"Bearer t"}, "COOKIE": {"s=1"}, "proxy-authorization": {"Basic x"}},
			http.Header{}},
		{"user information in the URL", "http://u:p@c.example/", http.Header{}, http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			require.NoError(t, err)
			req.Header = tt.header.Clone()
			before := req.Header.Clone()
			beforeURL := *req.URL

			got := withoutCredentials(req)
			assert.Equal(t, tt.want, got.Header)
			assert.Nil(t, got.URL.User)
			assert.Equal(t, "c.example", got.URL.Host)
			assert.Equal(t, before, req.Header, "the caller's headers are untouched")
			assert.Equal(t, beforeURL, *req.URL, "the caller's URL is untouched")
			if tt.name == "none" {
				assert.Same(t, req, got, "nothing to remove: no copy")
			}
		})
	}
}
