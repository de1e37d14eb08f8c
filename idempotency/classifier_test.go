package idempotency

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// trackedBody records whether a classifier touched a response body.
type trackedBody struct {
	read, closed bool
}

func (b *trackedBody) Read([]byte) (int, error) { b.read = true; return 0, io.EOF }
func (b *trackedBody) Close() error             { b.closed = true; return nil }

func response(code int, retryAfter ...string) *http.Response {
	h := http.Header{}
	for _, v := range retryAfter {
		h.Add("Retry-After", v)
	}
	return &http.Response{StatusCode: code, Header: h, Body: &trackedBody{}}
}

func withHeader(resp *http.Response, name, value string) *http.Response {
	resp.Header.Set(name, value)
	return resp
}

func TestClassifyResponses(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name string
		resp *http.Response
		want Kind
	}{
		{"200", response(200), Success},
		{"101", response(101), Success},
		{"304", response(304), Success},
		{"400", response(400), Final},
		{"403", response(403), Final},
		{"403 with Retry-After", response(403, "60"), Throttled},
		{"403 with a zero Retry-After", response(403, "0"), Final},
		{"403 with X-RateLimit-Remaining: 0", withHeader(response(403), "X-RateLimit-Remaining", " 0 "), Throttled},
		{"403 with X-RateLimit-Remaining: 5", withHeader(response(403), "X-RateLimit-Remaining", "5"), Final},
		{"404 with X-RateLimit-Remaining: 0", withHeader(response(404), "X-RateLimit-Remaining", "0"), Final},
		{"404", response(404), Final},
		{"409", response(409), Final},
		{"422", response(422), Final},
		{"408", response(408), Transient},
		{"425", response(425), Transient},
		{"429", response(429), Throttled},
		{"429 with Retry-After", response(429, "5"), Throttled},
		{"429 with invalid Retry-After", response(429, "soon"), Throttled},
		{"500", response(500), Transient},
		{"500 with Retry-After", response(500, "5"), Transient}, // only 503 is upgraded
		{"501", response(501), Fatal},
		{"502", response(502), Transient},
		{"503", response(503), Transient},
		{"503 with seconds", response(503, "120"), Throttled},
		{"503 with zero", response(503, "0"), Transient}, // asks no pause: no throttle
		{"503 with future date", response(503, future), Throttled},
		{"503 with past date", response(503, past), Transient},
		{"503 with invalid Retry-After", response(503, "-1"), Transient},
		{"503 with blank Retry-After", response(503, " "), Transient},
		{"503 with invalid first value", response(503, "soon", "5"), Transient},
		{"503 nil header", &http.Response{StatusCode: 503}, Transient},
		{"504", response(504), Transient},
		{"505", response(505), Fatal},
		{"599", response(599), Transient},
		{"600", response(600), Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Default.Classify(newRequest(t, http.MethodGet, noBody, nil), tt.resp, nil)
			if want := (Outcome{Kind: tt.want}); got != want {
				t.Errorf("Classify = %+v, want %+v", got, want)
			}
			if b, ok := tt.resp.Body.(*trackedBody); ok && (b.read || b.closed) {
				t.Errorf("Classify touched the body: read=%v closed=%v", b.read, b.closed)
			}
		})
	}
}

func TestClassifyNilBoth(t *testing.T) {
	if got := Default.Classify(nil, nil, nil); got != (Outcome{Kind: Transient}) {
		t.Errorf("Classify(nil, nil, nil) = %+v, want transient", got)
	}
}

// TestClassifyErrorWins: http.Client returns both a response and an error
// when CheckRedirect fails; the error ended the attempt.
func TestClassifyErrorWins(t *testing.T) {
	got := Default.Classify(nil, response(302), errors.New(`unsupported protocol scheme "ftp"`))
	if got.Kind != Fatal {
		t.Errorf("Classify(302, fatal error) = %+v, want fatal", got)
	}
}

func TestWithStatus(t *testing.T) {
	c := WithStatus(nil, map[int]Kind{
		409: Transient, // Idempotency-Key still in flight
		503: Final,     // this API uses 503 for "disabled"
		200: Final,
	})
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want Outcome
	}{
		{"listed 409", response(409), nil, Outcome{Kind: Transient}},
		{"listed beats the 503 upgrade", response(503, "5"), nil, Outcome{Kind: Final}},
		{"listed 200", response(200), nil, Outcome{Kind: Final}},
		{"unlisted 404", response(404), nil, Outcome{Kind: Final}},
		{"unlisted 429", response(429), nil, Outcome{Kind: Throttled}},
		{"unlisted 500", response(500), nil, Outcome{Kind: Transient}},
		{"error goes to base", nil, dialErr(dnsErr), Outcome{Kind: Transient, NeverSent: true}},
		{"rejection goes to base", nil, rejectErr{rejected: true}, Outcome{Kind: Rejected, NeverSent: true}},
		{"error beats a listed status", response(409), io.EOF, Outcome{Kind: Transient}},
		{"nil both", nil, nil, Outcome{Kind: Transient}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Classify(nil, tt.resp, tt.err); got != tt.want {
				t.Errorf("Classify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWithStatusCopiesMap(t *testing.T) {
	kinds := map[int]Kind{409: Transient}
	c := WithStatus(Default, kinds)
	kinds[409] = Fatal
	kinds[404] = Transient
	if got := c.Classify(nil, response(409), nil).Kind; got != Transient {
		t.Errorf("409 after mutating the map = %v, want transient", got)
	}
	if got := c.Classify(nil, response(404), nil).Kind; got != Final {
		t.Errorf("404 after mutating the map = %v, want final", got)
	}
}

func TestWithStatusNilMap(t *testing.T) {
	c := WithStatus(nil, nil)
	if got := c.Classify(nil, response(503, "1"), nil).Kind; got != Throttled {
		t.Errorf("503+Retry-After = %v, want throttled", got)
	}
}

// everything is a base classifier that disagrees with Default, to show that
// WithStatus delegates to its base rather than to Default.
type everything struct{}

func (everything) Replayable(*http.Request) bool { return true }
func (everything) Classify(*http.Request, *http.Response, error) Outcome {
	return Outcome{Kind: Fatal}
}

func TestWithStatusDelegatesToBase(t *testing.T) {
	c := WithStatus(everything{}, map[int]Kind{409: Transient})
	post := newRequest(t, http.MethodPost, plainReader, nil)
	if !c.Replayable(post) {
		t.Error("Replayable did not delegate to base")
	}
	if got := c.Classify(post, response(500), nil).Kind; got != Fatal {
		t.Errorf("unlisted status = %v, want base's fatal", got)
	}
	if got := c.Classify(post, response(409), nil).Kind; got != Transient {
		t.Errorf("listed status = %v, want transient", got)
	}
	nested := WithStatus(c, map[int]Kind{500: Success})
	if got := nested.Classify(post, response(409), nil).Kind; got != Transient {
		t.Errorf("nested: inner listed status = %v, want transient", got)
	}
	if got := nested.Classify(post, response(500), nil).Kind; got != Success {
		t.Errorf("nested: outer listed status = %v, want success", got)
	}
	if WithStatus(nil, nil).Replayable(post) {
		t.Error("nil base: POST without key reported replayable")
	}
}

func TestWithStatusPanicsOnInvalidKind(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("WithStatus accepted Kind(42)")
		}
		if msg, _ := r.(string); !strings.Contains(msg, "Kind(42)") || !strings.Contains(msg, "409") {
			t.Errorf("panic message %q names neither kind nor status", msg)
		}
	}()
	WithStatus(nil, map[int]Kind{409: 42})
}

// TestClassifierConcurrentUse runs the classifiers from many goroutines;
// -race reports any shared mutable state.
func TestClassifierConcurrentUse(t *testing.T) {
	classifiers := []Classifier{Default, WithStatus(nil, map[int]Kind{409: Transient})}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := classifiers[i%len(classifiers)]
			req, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
			for range 100 {
				c.Replayable(req)
				c.Classify(req, response(503, "1"), nil)
				c.Classify(req, response(409), nil)
				c.Classify(req, nil, io.EOF)
			}
		})
	}
	wg.Wait()
}
