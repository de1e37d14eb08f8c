package testkit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultStringParseRoundTrip(t *testing.T) {
	for _, f := range []Fault{
		FaultOK(), FaultStatus(503), FaultStatus(500), FaultThrottle("120"),
		FaultThrottle("Fri, 02 Jan 2026 15:04:35 GMT"), FaultSlow(50 * time.Millisecond),
		FaultOf(FaultResetBeforeHeaders), FaultOf(FaultResetMidBody), FaultOf(FaultBlackHole),
		FaultOf(FaultTruncatedBody), {Kind: FaultSlowHeaders, Status: 503, Delay: time.Millisecond},
		{Kind: FaultStalledBody, Status: 503},
	} {
		got, err := ParseFault(f.String())
		require.NoError(t, err, f.String())
		assert.Equal(t, f, got, f.String())
	}
	for _, bad := range []string{"", "nope", "42", "503;x", "503;delay=soon", "ok;color=red", "ok;status=x"} {
		_, err := ParseFault(bad)
		assert.Error(t, err, "%q", bad)
	}
	assert.Equal(t, "FaultKind(99)", FaultKind(99).String())
}

func TestFaultSequenceAndAlways(t *testing.T) {
	seq := FaultSequence(FaultStatus(503), FaultOf(FaultBlackHole))
	assert.Equal(t, FaultStatus(503), seq(1, nil))
	assert.Equal(t, FaultOf(FaultBlackHole), seq(2, nil))
	assert.Equal(t, FaultOK(), seq(3, nil))
	assert.Equal(t, FaultStatus(502), FaultAlways(FaultStatus(502))(7, nil))

	by := FaultSequenceBy("X-Call", FaultStatus(503))
	r1, _ := http.NewRequest("GET", "http://x/", nil)
	r1.Header.Set("X-Call", "1")
	r2 := r1.Clone(r1.Context())
	r2.Header.Set("X-Call", "2")
	assert.Equal(t, FaultStatus(503), by(1, r1))
	assert.Equal(t, FaultStatus(503), by(2, r2), "a new sequence per header value")
	assert.Equal(t, FaultOK(), by(3, r1))
}
