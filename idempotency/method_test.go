package idempotency

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestIdempotentMethod(t *testing.T) {
	tests := []struct {
		method string
		want   bool
	}{
		{"", true}, // net/http: "" means GET
		{http.MethodGet, true},
		{http.MethodHead, true},
		{http.MethodOptions, true},
		{http.MethodTrace, true},
		{http.MethodPut, true},
		{http.MethodDelete, true},
		{http.MethodPost, false},
		{http.MethodPatch, false},
		{http.MethodConnect, false},
		{"get", false}, // methods are case-sensitive
		{"Put", false},
		{"PROPFIND", false},
		{"GET ", false},
	}
	for _, tt := range tests {
		if got := IdempotentMethod(tt.method); got != tt.want {
			t.Errorf("IdempotentMethod(%q) = %v, want %v", tt.method, got, tt.want)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"nil header", nil, ""},
		{"no key", http.Header{"Content-Type": {"text/plain"}}, ""},
		{"Idempotency-Key", http.Header{"Idempotency-Key": {"abc"}}, "abc"},
		{"X-Idempotency-Key", http.Header{"X-Idempotency-Key": {"xyz"}}, "xyz"},
		{"both: standard wins", http.Header{"Idempotency-Key": {"abc"}, "X-Idempotency-Key": {"xyz"}}, "abc"},
		{"trimmed", http.Header{"Idempotency-Key": {"  abc \t"}}, "abc"},
		{"empty key", http.Header{"Idempotency-Key": {""}}, ""},
		{"blank key", http.Header{"Idempotency-Key": {"   "}}, ""},
		{"present without value", http.Header{"Idempotency-Key": nil}, ""},
		{"empty falls back to X-", http.Header{"Idempotency-Key": {""}, "X-Idempotency-Key": {"xyz"}}, "xyz"},
		{"blank falls back to X-", http.Header{"Idempotency-Key": {" "}, "X-Idempotency-Key": {" xyz "}}, "xyz"},
		{"both blank", http.Header{"Idempotency-Key": {" "}, "X-Idempotency-Key": {" "}}, ""},
		{"first value only", http.Header{"Idempotency-Key": {"first", "second"}}, "first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.header); got != tt.want {
				t.Errorf("Key = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyCanonicalizes(t *testing.T) {
	h := http.Header{}
	h.Set("idempotency-key", "abc") // Set canonicalizes, as servers and clients do
	if got := Key(h); got != "abc" {
		t.Errorf("Key = %q, want abc", got)
	}
}

// bodyKind builds the four body shapes a request can have.
type bodyKind int

const (
	noBody      bodyKind = iota // Body == nil
	emptyBody                   // Body == http.NoBody
	getBody                     // a body with GetBody, as http.NewRequest makes
	plainReader                 // a body without GetBody
)

func (b bodyKind) String() string {
	return [...]string{"nil body", "NoBody", "GetBody", "plain reader"}[b]
}

func newRequest(t *testing.T, method string, body bodyKind, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	switch body {
	case emptyBody:
		req.Body = http.NoBody
	case getBody:
		req, err = http.NewRequest(method, "http://example.com/", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		if req.GetBody == nil {
			t.Fatal("http.NewRequest did not set GetBody for a *strings.Reader")
		}
	case plainReader:
		req.Body = io.NopCloser(bytes.NewBufferString("payload"))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

func TestBodyReplayable(t *testing.T) {
	tests := []struct {
		body bodyKind
		want bool
	}{
		{noBody, true},
		{emptyBody, true},
		{getBody, true},
		{plainReader, false},
	}
	for _, tt := range tests {
		req := newRequest(t, http.MethodPost, tt.body, nil)
		if got := BodyReplayable(req); got != tt.want {
			t.Errorf("BodyReplayable(%v) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestReplayable(t *testing.T) {
	key := http.Header{"Idempotency-Key": {"k1"}}
	xKey := http.Header{"X-Idempotency-Key": {"k1"}}
	blankKey := http.Header{"Idempotency-Key": {"  "}}

	type row struct {
		method string
		body   bodyKind
		header http.Header
		want   bool
	}
	var tests []row
	// Every idempotent method is replayable exactly when its body is.
	for _, m := range []string{"", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete} {
		tests = append(tests,
			row{m, noBody, nil, true},
			row{m, emptyBody, nil, true},
			row{m, getBody, nil, true},
			row{m, plainReader, nil, false},
		)
	}
	// POST and PATCH need a non-blank key and a replayable body.
	for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodConnect, "get"} {
		tests = append(tests,
			row{m, noBody, nil, false},
			row{m, emptyBody, nil, false},
			row{m, getBody, nil, false},
			row{m, plainReader, nil, false},
			row{m, noBody, key, true},
			row{m, emptyBody, key, true},
			row{m, getBody, key, true},
			row{m, plainReader, key, false},
			row{m, getBody, xKey, true},
			row{m, plainReader, xKey, false},
			row{m, getBody, blankKey, false},
			row{m, noBody, blankKey, false},
		)
	}
	for _, tt := range tests {
		req := newRequest(t, tt.method, tt.body, tt.header)
		if got := Replayable(req); got != tt.want {
			t.Errorf("Replayable(%q, %v, %v) = %v, want %v", tt.method, tt.body, tt.header, got, tt.want)
		}
		if got := Default.Replayable(req); got != tt.want {
			t.Errorf("Default.Replayable(%q, %v, %v) = %v, want %v", tt.method, tt.body, tt.header, got, tt.want)
		}
	}
}

func TestReplayableNilRequest(t *testing.T) {
	if Replayable(nil) {
		t.Error("Replayable(nil) = true, want false")
	}
	if BodyReplayable(nil) {
		t.Error("BodyReplayable(nil) = true, want false")
	}
}

func TestReplayableNilHeader(t *testing.T) {
	req := &http.Request{Method: http.MethodPost}
	if Replayable(req) {
		t.Error("POST with nil Header reported replayable")
	}
	req.Method = http.MethodGet
	if !Replayable(req) {
		t.Error("GET with nil Header reported not replayable")
	}
}
