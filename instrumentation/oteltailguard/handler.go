package oteltailguard

import (
	"net/http"

	"github.com/tailguard/tailguard/decision"
)

// Handler returns next with the Instrumentation in each request's
// context, for the server side: wrap a hedge.Middleware's handler (or a
// whole mux of them) with it, and the middleware's decisions (hedges sent,
// denied and won) are counted and added to the server span in the
// request's context, as the client stages' are.
//
//	mux.Handle("/search", inst.Handler(mw.Handler(search)))
func (in *Instrumentation) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(decision.WithObserver(r.Context(), in)))
	})
}
