package lab

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			}
			w.Header().Set("X-Echo", string(body))
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "brewed")
		})
		client := &http.Client{Transport: InMemory(h)}

		start := time.Now()
		resp, err := client.Post("http://upstream.invalid/", "text/plain", strings.NewReader("tea"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot || string(body) != "brewed" || resp.Header.Get("X-Echo") != "tea" {
			t.Errorf("got %d %q, X-Echo %q", resp.StatusCode, body, resp.Header.Get("X-Echo"))
		}
		if took := time.Since(start); took != time.Second {
			t.Errorf("took %v on the fake clock, want exactly the handler's 1s", took)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://upstream.invalid/", nil)
		if _, err := client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("canceled mid-handler: err = %v, want DeadlineExceeded", err)
		}
		if _, err := client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("canceled before: err = %v, want DeadlineExceeded", err)
		}
	})
}
