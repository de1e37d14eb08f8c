package testkit

import (
	"os"
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
