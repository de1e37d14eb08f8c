package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrorMessageAndUnwrap(t *testing.T) {
	e := &Error{Attempts: 1, Err: io.EOF}
	assert.Equal(t, "retry: gave up after 1 attempt: EOF", e.Error())
	e = &Error{Attempts: 3, Err: io.ErrUnexpectedEOF}
	assert.Equal(t, "retry: gave up after 3 attempts: unexpected EOF", e.Error())
	assert.ErrorIs(t, e, io.ErrUnexpectedEOF)
}

func TestErrAttemptTimeout(t *testing.T) {
	assert.ErrorIs(t, ErrAttemptTimeout, context.DeadlineExceeded)
	assert.NotErrorIs(t, ErrAttemptTimeout, context.Canceled)
	var ne net.Error
	assert.True(t, errors.As(ErrAttemptTimeout, &ne) && ne.Timeout(), "looks like a timeout to net.Error checks")
	assert.Equal(t, "retry: attempt timed out", ErrAttemptTimeout.Error())
}
