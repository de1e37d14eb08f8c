package hedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"sync/atomic"

	"github.com/tailguard/tailguard/idempotency"
)

// ErrLostRace is the cause, as reported by [context.Cause], with which a
// [Middleware] cancels a run's context when another run of the same request
// answered first. A handler can tell it from the client going away
// (context.Canceled) and from [MiddlewareConfig.Timeout]
// (context.DeadlineExceeded), for instance to avoid logging it as an error.
var ErrLostRace = errors.New("hedge: another run answered first")

// ErrResponseTooLarge is what a hedged run's writes return once its body
// has outgrown [MiddlewareConfig.MaxResponse] and the run cannot answer
// the client: its status is a failing one. Its output is never sent.
var ErrResponseTooLarge = errors.New("hedge: response body outgrew MaxResponse in a run that cannot win")

// run is one run of the handler for a hedged request.
//
// A run reports to its race exactly once, from its own goroutine: when its
// handler returns or panics, or earlier, when its body outgrows
// MaxResponse (see outgrow). The fields from resp on are written before
// that report, so the ServeHTTP goroutine reads them without a lock once it
// has received the run; the one exception is the panic of a run that
// reported early, written before done is closed and read after.
type run struct {
	n      int
	ctx    markedCtx // a child of the race's context carrying the attempt mark
	cancel context.CancelCauseFunc
	req    *http.Request // the run's own clone of the request
	body   runBody
	rec    recorder
	judge  idempotency.Classifier
	report chan<- *run         // the race's results
	client http.ResponseWriter // the real writer, for a run that wins while writing

	resp     http.Response    // the status and headers the run was judged by
	kind     idempotency.Kind // the classifier's verdict on resp
	pause    bool             // resp asks for a pause: a Retry-After still in the future
	panicked bool
	panicVal any
	stack    []byte      // where the panic was recovered
	race     *serverRace // for a panic no one is left to receive (see finish)
	// claimed is set by whoever answers for the run's panic, if it has
	// one: for a run reporting when its handler returns, the race taking
	// its report in (the loop, or, once decided, the drain in
	// dropUnread) or, if neither did, the run itself; for a run that
	// reported early, the answer writing it through, or the run itself.
	claimed atomic.Bool
	// Made by a run that reported when its body outgrew MaxResponse; nil
	// otherwise. The race sends one verdict: nil to write through to
	// client, or the error its writes return. done is closed when its
	// handler has returned.
	verdict chan error
	done    chan struct{}
}

// serve runs the handler for ru and reports the run, even if the handler
// or the classifier panics.
func (h *handler) serve(ru *run) {
	defer ru.finish()
	h.next.ServeHTTP(&ru.rec, ru.req)
	if ru.done == nil {
		ru.settle()
	}
}

// finish is deferred by serve: it recovers a panic, and reports the run,
// unless it reported when its body outgrew MaxResponse.
//
// A panic no one will raise — a run that lost, or that reported early
// and is not the answer — is dropped, and counted (see dropRun).
func (ru *run) finish() {
	if p := recover(); p != nil {
		ru.panicked, ru.panicVal, ru.stack = true, p, debug.Stack()
	}
	if ru.done != nil {
		if ru.panicked && ru.claimed.CompareAndSwap(false, true) {
			ru.race.dropRun(ru) // writeThrough, if it comes, finds it claimed
		}
		close(ru.done)
		return
	}
	ru.report <- ru
	if ru.panicked && ru.race.over.Load() && ru.claimed.CompareAndSwap(false, true) {
		ru.race.dropRun(ru) // decided without it, and not drained
	}
}

// settle judges the run by its status and headers as they stand, on its own
// goroutine, before it reports.
func (ru *run) settle() {
	status, header := ru.rec.result()
	ru.resp = http.Response{StatusCode: status, Header: header, Body: http.NoBody, Request: ru.req}
	ru.kind = ru.judge.Classify(ru.req, &ru.resp, nil).Kind
	ru.pause = pushedBack(&ru.resp)
}

// outgrow is called by the run's recorder when its body is about to
// outgrow MaxResponse. The run finishes here: it is judged as it stands,
// reports, and waits for the verdict. If it won, it writes its headers and
// what it buffered to the client, and returns the client's writer for the
// rest; otherwise the error every later write returns: [ErrResponseTooLarge]
// for a failing status, the context's cause once the run lost or the
// request ended.
func (ru *run) outgrow() (io.Writer, error) {
	ru.settle()
	ru.verdict, ru.done = make(chan error, 1), make(chan struct{})
	ru.report <- ru
	select {
	case err := <-ru.verdict:
		if err != nil {
			return nil, err
		}
	case <-ru.ctx.Done():
		return nil, context.Cause(&ru.ctx)
	}
	ru.rec.writeHead(ru.client)
	return ru.client, nil
}
