package oteltailguard

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// newMeter returns a MeterProvider read by a ManualReader.
func newMeter(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// points are a collection's data points: metric name → attribute set
// (as "k=v,k=v", sorted, without server.port) → value (a sum, a gauge's
// value, or a histogram's count).
type points map[string]map[string]float64

// sums are histograms' sums, keyed like points.
type sums map[string]map[string]float64

// collect reads every metric once.
func collect(t testing.TB, r *sdkmetric.ManualReader) (points, sums) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	ps, ss := points{}, sums{}
	put := func(m map[string]map[string]float64, name string, set attribute.Set, v float64) {
		if m[name] == nil {
			m[name] = map[string]float64{}
		}
		m[name][key(set)] += v
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					put(ps, m.Name, p.Attributes, float64(p.Value))
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					put(ps, m.Name, p.Attributes, float64(p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					put(ps, m.Name, p.Attributes, float64(p.Count))
					put(ss, m.Name, p.Attributes, p.Sum)
				}
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return ps, ss
}

// key renders an attribute set compactly, leaving out server.port and
// http.request.method (the same in every test) to keep tables short.
func key(set attribute.Set) string {
	var parts []string
	for _, kv := range set.ToSlice() {
		k := string(kv.Key)
		if k == attrServerPort || k == attrMethod {
			continue
		}
		k = strings.TrimPrefix(k, "tailguard.")
		parts = append(parts, k+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// stub is an in-memory upstream: respond decides each call.
type stub func(n int, req *http.Request) (*http.Response, error)

func (s stub) transport() http.RoundTripper {
	var n atomic.Int64
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return s(int(n.Add(1)), req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// reply answers req with status and header pairs.
func reply(req *http.Request, status int, header ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprint(status), Header: h, Body: http.NoBody, Request: req}
}

// stall waits for req's context to end, as a black-holed upstream would.
func stall(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// after answers req with status after d, unless its context ends first.
func after(req *http.Request, d time.Duration, status int) (*http.Response, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return reply(req, status), nil
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}

// do sends a request of method to url through rt under ctx, closing the
// response body, and returns its status (0 on error) and error.
func do(ctx context.Context, rt http.RoundTripper, method, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
