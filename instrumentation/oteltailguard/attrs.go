package oteltailguard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxCached bounds each cache of attribute sets. Every attribute is
// low-cardinality (no URL path; hosts only as server.address), so a
// well-behaved client never reaches it; past it, sets are built per
// measurement, which costs allocations but stays correct.
const maxCached = 4096

// series is a key of one attribute set: up to four strings and two
// numbers, whose meaning each instrument fixes. Comparable, and built
// from strings that already exist, so looking one up allocates nothing.
type series struct {
	a, b, c, d string
	n, m       int
	t          string // error.type of an error; see errorType
}

// opts are the measurement options of one attribute set, as the slices
// the instruments' variadic methods take, built once.
type opts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

// optCache maps series to their options. Measuring with an attribute set
// already built allocates nothing, which is how an instrumented request
// stays within two allocations of an uninstrumented one.
type optCache struct {
	build func(series) []attribute.KeyValue

	mu sync.RWMutex // guards m
	m  map[series]opts
}

func newOptCache(build func(series) []attribute.KeyValue) *optCache {
	return &optCache{build: build, m: make(map[series]opts)}
}

// get returns the options of s, building and caching them on first use.
func (c *optCache) get(s series) opts {
	c.mu.RLock()
	o, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return o
	}
	set := attribute.NewSet(c.build(s)...)
	opt := metric.WithAttributeSet(set)
	o = opts{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
	c.mu.Lock()
	if len(c.m) < maxCached {
		c.m[s] = o
	}
	c.mu.Unlock()
	return o
}

// knownMethods are the methods the semantic conventions name; any other
// is recorded as _OTHER, so a client sending made-up methods cannot blow
// up cardinality.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true,
	http.MethodTrace: true, http.MethodPatch: true,
}

// method returns req's method as the conventions record it.
func method(req *http.Request) string {
	m := req.Method
	if m == "" {
		return http.MethodGet
	}
	if knownMethods[m] {
		return m
	}
	return "_OTHER"
}

// serverAddress returns u's host and port, the port defaulted for http
// and https; it does not allocate.
func serverAddress(u *url.URL) (string, int) {
	if u == nil {
		return "", 0
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return host, n
	}
	switch u.Scheme {
	case "https":
		return host, 443
	case "http":
		return host, 80
	}
	return host, 0
}

// errorType returns what error.type says for err: context.Canceled or
// context.DeadlineExceeded (an attempt timeout included) when the error is
// one, else the Go type of the innermost error of its chain (the wrappers
// the stages add say nothing): *net.OpError, *breaker.OpenError,
// *throttle.Error. "" for no error. It does not allocate: a type's name
// lives in the binary.
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return reflect.TypeOf(err).String()
		}
		err = inner
	}
}

// httpAttrs are the HTTP semantic conventions' attributes of a series
// whose a is the method, b the server address, n the port, m the status
// (0 for none) and t the error type (nil for none); c, if set, is the
// attempt kind.
func httpAttrs(s series) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.String(attrMethod, s.a),
		attribute.String(attrServerAddress, s.b),
	}
	if s.n != 0 {
		kv = append(kv, attribute.Int(attrServerPort, s.n))
	}
	if s.m != 0 {
		kv = append(kv, attribute.Int(attrStatusCode, s.m))
	}
	switch {
	case s.t != "":
		kv = append(kv, attribute.String(attrErrorType, s.t))
	case s.m >= 400:
		// The conventions' error.type for a failed status is the status.
		kv = append(kv, attribute.String(attrErrorType, strconv.Itoa(s.m)))
	}
	if s.c != "" {
		kv = append(kv, attribute.String(AttrAttemptKind, s.c))
	}
	return kv
}

// joinErrs joins the non-nil errors.
func joinErrs(errs []error) error { return errors.Join(errs...) }
