package hedge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

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
// A run reports to its race exactly once, on its own goroutine: when its
// handler returns or panics, or earlier, when its body outgrows
// MaxResponse (see outgrow). The fields below the line are written before
// that report and never after, so the ServeHTTP goroutine reads them
// without a lock once it has received the run.
type run struct {
	n      int
	ctx    markedCtx // a child of the race's context carrying the attempt mark
	cancel context.CancelCauseFunc
	req    *http.Request // the run's own clone of the request
	body   runBody
	rec    recorder
	judge  idempotency.Classifier
	report chan<- *run // the race's results

	resp     http.Response    // the status and headers the run is judged by, and answers with
	kind     idempotency.Kind // the classifier's verdict on resp
	panicked bool
	panicVal any
	// The rest of the body of a run that reported when it outgrew
	// MaxResponse; nil otherwise. The ServeHTTP goroutine copies it to
	// the client if the run won, and closes it if not.
	stream *io.PipeReader

	pw *io.PipeWriter // stream's other end, used by the run's goroutine only
}

// serve runs the handler for ru and reports the run, even if the handler
// or the classifier panics.
func (h *handler) serve(ru *run) {
	defer ru.finish()
	h.next.ServeHTTP(&ru.rec, ru.req)
	if ru.pw == nil {
		ru.settle(false)
	}
}

// finish is deferred by serve: it recovers a panic and reports the run,
// unless the run reported when it outgrew MaxResponse; then it ends the
// stream instead, carrying the panic if there is one.
func (ru *run) finish() {
	p := recover()
	if ru.pw != nil {
		if p != nil {
			ru.pw.CloseWithError(runPanic{p})
		} else {
			ru.pw.Close()
		}
		return
	}
	if p != nil {
		ru.panicked, ru.panicVal = true, p
	}
	ru.report <- ru
}

// settle judges the run as it stands. A run whose handler goes on writing
// (snapshot) is judged, and answers if it wins, by a copy of its headers,
// which the handler may change while the client is answered.
func (ru *run) settle(snapshot bool) {
	status, header := ru.rec.result()
	if snapshot {
		header = header.Clone()
	}
	ru.resp = http.Response{StatusCode: status, Header: header, Body: http.NoBody, Request: ru.req}
	ru.kind = ru.judge.Classify(ru.req, &ru.resp, nil).Kind
}

// outgrow is called by the run's recorder when its body is about to
// outgrow MaxResponse, and returns where the rest of the body goes. The run
// counts as finished from here: it is judged as it stands and reported,
// and its further writes go into a pipe that the ServeHTTP goroutine
// copies to the client if the run wins. Each write waits until it is
// copied, or fails once the pipe is closed: with [ErrResponseTooLarge] if
// the run's status cannot win, with the context's cause once the run lost
// or the request ended.
func (ru *run) outgrow() io.Writer {
	ru.settle(true)
	ru.stream, ru.pw = io.Pipe()
	// A run that lost, or whose request ended, is never read again.
	pr := ru.stream
	context.AfterFunc(&ru.ctx, func() { pr.CloseWithError(context.Cause(&ru.ctx)) })
	ru.report <- ru
	return ru.pw
}

// runPanic carries a panic of a run that outgrew MaxResponse through its
// stream to the ServeHTTP goroutine.
type runPanic struct{ value any }

func (p runPanic) Error() string { return fmt.Sprintf("hedge: run panicked: %v", p.value) }
