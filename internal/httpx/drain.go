package httpx

import (
	"io"
	"net/http"
)

// DrainLimit is how much of a discarded response body [Discard] reads before
// closing it. Reading the rest of a small body lets net/http put the
// connection back in the keep-alive pool; a body larger than this is cheaper
// to abandon (the connection is closed) than to download. It is set above
// 100 KB because error pages from proxies and frameworks often run that large,
// and 4 KiB (go-retryablehttp's choice) kills keep-alive for them.
const DrainLimit = 256 << 10

// Discard drains at most [DrainLimit] bytes of resp's body and closes it. It
// is safe with a nil response or a nil body.
func Discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, DrainLimit)
	_ = resp.Body.Close()
}
