package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestSmokeEcho(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, b)
		}
	}))
	defer srv.Close()
	m := NewManager(ManagerOptions{})
	c := m.Open(Options{URL: "ws" + srv.URL[4:]})
	c.Send("text", []byte("hello"))
	c.Ping([]byte("p1"))
	go func() { time.Sleep(300 * time.Millisecond); c.Close(4001, "bye") }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { m.Wait(ctx); m.Shutdown() }()
	for ev := range m.Events() {
		t.Log(string(ev.AppendJSON(nil)))
	}
}
