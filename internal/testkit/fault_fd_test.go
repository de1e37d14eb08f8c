package testkit

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenFDs(t *testing.T) {
	before := OpenFDs()
	if before < 0 {
		t.Skip("no /proc/self/fd")
	}
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	assert.Equal(t, before+1, OpenFDs())
	assert.Equal(t, 1, FDGrowth(before, 0, 0), "an open file is growth")
	f.Close()
	assert.Equal(t, 0, FDGrowth(before, 0, time.Second))
}

// TestOpenFDsBeforeFirstNetworkUse counts descriptors in a fresh process
// (this test binary, run again) before and after its first socket: the
// runtime's network poller, opened by that socket and kept for the life
// of the process, is not growth.
func TestOpenFDsBeforeFirstNetworkUse(t *testing.T) {
	if os.Getenv("TESTKIT_FIRST_NETWORK_USE") == "1" {
		before := OpenFDs()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ln.Close()
		assert.Equal(t, 0, FDGrowth(before, 0, time.Second), "a closed listener is no growth")
		return
	}
	if OpenFDs() < 0 {
		t.Skip("no /proc/self/fd")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenFDsBeforeFirstNetworkUse$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTKIT_FIRST_NETWORK_USE=1")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the fresh process:\n%s", out)
}
