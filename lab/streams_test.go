package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestTicks(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/ticks?interval=20ms"), nil)
	start := time.Now()
	var last time.Time
	for want := 1; want <= 5; want++ {
		var tk tick
		if err := json.Unmarshal([]byte(readText(t, ctx, c)), &tk); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, tk.Ts)
		if tk.Tick != want || err != nil || tk.Px <= 0 || ts.Before(last) {
			t.Fatalf("tick %+v (ts error %v), want tick %d with a price and a later timestamp", tk, err, want)
		}
		last = ts
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("5 ticks at 20ms took %v", d)
	}
	// Messages from the client are read (and ignored); its close is answered.
	c.Write(ctx, websocket.MessageText, []byte("ignored"))
	if err := c.Close(websocket.StatusNormalClosure, "enough"); err != nil {
		t.Errorf("close: %v", err)
	}
	waitLog(t, log, `/ticks end: close frame from client, code 1000 reason "enough"`)
}

func TestFlood(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	// The lab writes faster than this client reads, and coder/websocket
	// gives a close handshake 5 s: n stays small enough that, even under
	// -race on a loaded machine, the client reaches the close frame in time.
	const n, size = 2000, 40
	c := mustDial(t, ctx, s.URL(fmt.Sprintf("/flood?n=%d&size=%d", n, size)), nil)
	for i := 1; i <= n; i++ {
		got := readText(t, ctx, c)
		if len(got) != size || !strings.HasPrefix(got, fmt.Sprintf("%d ", i)) {
			t.Fatalf("message %d = %q, want %d bytes starting with its number", i, got, size)
		}
	}
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after the flood: %v, want close 1000", err)
	}
	waitLog(t, log, "/flood end: close handshake complete")
}

func TestFloodClientLeavesEarly(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/flood?n=100000000&size=100"), nil)
	readText(t, ctx, c)
	c.CloseNow()
	waitLog(t, log, "/flood stopped after")
}

func TestFloodMessage(t *testing.T) {
	tests := []struct {
		size, i int
		want    string
	}{
		{10, 1, "1 ........"},
		{10, 123, "123 ......"},
		{3, 12345, "123"},
		{1, 7, "7"},
		{6, 99999, "99999 "},
	}
	for _, tt := range tests {
		if got := string(floodMessage(make([]byte, tt.size), tt.i)); got != tt.want {
			t.Errorf("floodMessage(%d, %d) = %q, want %q", tt.size, tt.i, got, tt.want)
		}
	}
}

func TestSilent(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/silent"), nil)
	c.Write(ctx, websocket.MessageText, []byte("anyone?"))
	readCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if typ, p, err := c.Read(readCtx); err == nil {
		t.Fatalf("silent sent %v %q", typ, p)
	}
	// The timed-out read closed our side; the server notices.
	waitLog(t, log, "/silent end:")

	c2 := mustDial(t, ctx, s.URL("/silent"), nil)
	done := make(chan error, 1)
	go func() { _, _, err := c2.Read(ctx); done <- err }()
	if err := c2.Close(websocket.StatusGoingAway, ""); err != nil {
		t.Errorf("close of a silent socket: %v", err)
	}
	<-done
}

func TestBadParameters(t *testing.T) {
	s, log := startLab(t)
	tests := []struct{ path, mention string }{
		{"/close?code=1006", "code=1006"},
		{"/close?code=2500", "code=2500"},
		{"/close?code=abc", `code="abc"`},
		{"/close?reason=" + strings.Repeat("x", 124), "reason"},
		{"/close?after=-1s", "after"},
		{"/drop?after=soon", "after"},
		{"/drop?rst=maybe", "rst"},
		{"/fin?after=2h", "after"},
		{"/ping?interval=0s", "interval"},
		{"/reject?status=99", "status"},
		{"/slow?delay=x", "delay"},
		{"/big?size=-1", "size"},
		{"/ticks?interval=0", "interval"},
		{"/flood?n=10&size=0", "size"},
		{"/room?name=", "name"},
	}
	for _, tt := range tests {
		ctx := guardCtx(t)
		_, resp, err := dial(t, ctx, s.URL(tt.path), nil)
		if err == nil {
			t.Errorf("%s: upgraded, want 400", tt.path)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %v, want 400", tt.path, err)
			continue
		}
		waitLog(t, log, "bad parameters: "+tt.mention)
	}
}
