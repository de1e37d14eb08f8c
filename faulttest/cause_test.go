package faulttest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/retry"
)

// cause is a documented reason for a failed call or body read, matched the
// way a caller would: with errors.Is on an exported sentinel, or (for
// HTTP/2 stream resets, which net/http does not export) on the text
// net/http documents.
type cause struct {
	name  string
	match func(error) bool
}

func is(name string, target error) cause {
	return cause{name: name, match: func(err error) bool { return errors.Is(err, target) }}
}

var (
	refused = is("ECONNREFUSED", syscall.ECONNREFUSED)
	// reset is how a TCP RST reaches the caller: ECONNRESET from the read,
	// or io.EOF when net/http saw the connection close first.
	reset         = cause{name: "ECONNRESET", match: func(err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) }}
	unexpectedEOF = is("ErrUnexpectedEOF", io.ErrUnexpectedEOF)
	deadline      = is("DeadlineExceeded", context.DeadlineExceeded)
	attemptTO     = is("retry.ErrAttemptTimeout", retry.ErrAttemptTimeout)
	open          = is("breaker.ErrOpen", breaker.ErrOpen)
	// streamReset is an HTTP/2 RST_STREAM: net/http returns its unexported
	// StreamError, whose text names the stream and the code.
	streamReset = cause{name: "h2 stream reset", match: func(err error) bool {
		return err != nil && (strings.Contains(err.Error(), "stream error") || strings.Contains(err.Error(), "INTERNAL_ERROR"))
	}}
)

func matchAny(err error, cs []cause) bool {
	for _, c := range cs {
		if c.match(err) {
			return true
		}
	}
	return false
}

func causeNames(cs []cause) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.name
	}
	return strings.Join(s, " or ")
}
