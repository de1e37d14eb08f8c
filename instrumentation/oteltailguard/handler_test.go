package oteltailguard

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tailguard/tailguard/hedge"
)

// TestHandlerMetrics: a hedge.Middleware under Handler reports its hedge
// and its win.
func TestHandlerMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		mw := hedge.NewMiddleware(hedge.MiddlewareConfig{Config: hedge.Config{Delay: 10 * time.Millisecond}})
		h := in.Handler(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !hedge.IsHedge(r.Context()) {
				<-r.Context().Done() // the first run stalls
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://svc.test/search", nil))
		synctest.Wait()
		assert.Equal(t, http.StatusNoContent, rec.Code)
		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{"reason=delay,server.address=svc.test,stage=hedge_middleware": 1}, ps[MetricHedges])
		assert.Equal(t, map[string]float64{"server.address=svc.test,stage=hedge_middleware": 1}, ps[MetricHedgeWins])
		st := mw.Stats()
		assert.Equal(t, uint64(1), st.Hedges)
		assert.Equal(t, uint64(1), st.HedgeWins)
	})
}
