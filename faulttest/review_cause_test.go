package faulttest_test

import (
	"context"
	"net/http"
)

// contextCause is what net/http's Transport returns for a canceled request.
func contextCause(req *http.Request) error { return context.Cause(req.Context()) }
