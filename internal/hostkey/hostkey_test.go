package hostkey

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFromURLAndString(t *testing.T) {
	tests := []struct {
		url  string
		want Key
		str  string
	}{
		{"https://API.Example.com/x", Key{"https", "api.example.com", 443}, "https://api.example.com:443"},
		{"http://example.com", Key{"http", "example.com", 80}, "http://example.com:80"},
		{"http://example.com:8080/", Key{"http", "example.com", 8080}, "http://example.com:8080"},
		{"http://[::1]:9/", Key{"http", "::1", 9}, "http://[::1]:9"},
		{"ftp://[::1]/", Key{"ftp", "::1", 0}, "ftp://[::1]"},
		{"ftp://host/", Key{"ftp", "host", 0}, "ftp://host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			assert.NoError(t, err)
			k := FromURL(u)
			assert.Equal(t, tt.want, k)
			assert.Equal(t, tt.str, k.String())
			back, ok := Parse(k.String())
			assert.True(t, ok)
			assert.Equal(t, k, back, "Parse inverts String")
		})
	}
	assert.Equal(t, "my-api-key", Key{Host: "my-api-key"}.String(), "a user's key is shown as given")
}

func TestFromURLDoesNotAllocate(t *testing.T) {
	u, _ := url.Parse("https://api.example.com:8443/v1")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = FromURL(u) }))
}

func TestParse(t *testing.T) {
	k, ok := Parse("HTTP://Api.Example.Com:80")
	assert.True(t, ok)
	assert.Equal(t, Key{"http", "api.example.com", 80}, k, "lower-cased, as FromURL makes keys")
	for _, s := range []string{"", "example.com", "://x", "http://h:0", "http://h:x", "http://h:70000"} {
		_, ok := Parse(s)
		assert.False(t, ok, s)
	}
}
