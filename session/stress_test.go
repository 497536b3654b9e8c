package session

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// TestStressOutcomes: 20 sockets, 10,000 sends from 4 goroutines racing
// random closes, aborts and reconnects. Every id ends in exactly one outcome
// (written or dropped), none is lost or doubled, and one sender's messages
// to one socket are written in the order it sent them.
func TestStressOutcomes(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	const sockets, senders, perSender = 20, 4, 2500
	var conns []*Conn
	for i := range sockets {
		path := "/echo"
		if i%5 == 4 {
			path = "/slow?delay=20ms"
		}
		conns = append(conns, r.m.Open(Options{
			URL: s.URL(path), Reconnect: i%2 == 0, BackoffMin: 2 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
			CloseTimeout: 200 * time.Millisecond, QueueLimit: 200,
		}))
	}
	type sent struct {
		sender int
		conn   int
	}
	var mu sync.Mutex
	ids := map[uint64]sent{}
	stop := make(chan struct{})
	var chaos sync.WaitGroup
	chaos.Add(1)
	go func() {
		defer chaos.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rng.IntN(3000)) * time.Microsecond):
			}
			c := conns[rng.IntN(len(conns))]
			switch rng.IntN(4) {
			case 0:
				c.Close(1000, "")
			case 1:
				c.Abort()
			default:
				c.Reconnect()
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range perSender {
				c := conns[rng.IntN(len(conns))]
				op := "text"
				if i%3 == 0 {
					op = "binary"
				}
				id := c.Send(op, []byte(fmt.Sprintf("g%d-%d", g, i)))
				mu.Lock()
				ids[id] = sent{sender: g, conn: c.ID()}
				mu.Unlock()
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	chaos.Wait()
	r.m.CloseAll(1000, "")
	for _, c := range conns {
		r.waitEnd(c)
	}
	r.m.Shutdown()
	<-r.done

	outcomes := map[uint64]int{}
	lastWritten := map[[2]int]uint64{}
	written, dropped := 0, 0
	for _, ev := range r.all() {
		switch {
		case ev.Type == EventMessage && ev.Dir == DirOut:
			written++
			outcomes[ev.ID]++
			s := ids[ev.ID]
			key := [2]int{s.sender, s.conn}
			if ev.ID < lastWritten[key] {
				t.Errorf("sender %d, #%d: id %d written after %d", s.sender, s.conn, ev.ID, lastWritten[key])
			}
			lastWritten[key] = ev.ID
			if ev.Conn != s.conn {
				t.Errorf("id %d written on #%d, sent to #%d", ev.ID, ev.Conn, s.conn)
			}
		case ev.Type == EventDropped:
			dropped++
			outcomes[ev.ID]++
		}
	}
	if len(ids) != senders*perSender {
		t.Fatalf("%d ids for %d sends: ids are not unique", len(ids), senders*perSender)
	}
	for id := range ids {
		if outcomes[id] != 1 {
			t.Errorf("id %d has %d outcomes", id, outcomes[id])
		}
	}
	for id := range outcomes {
		if _, ok := ids[id]; !ok {
			t.Errorf("outcome for unknown id %d", id)
		}
	}
	t.Logf("%d sends: %d written, %d dropped", len(ids), written, dropped)
	if written == 0 || dropped == 0 {
		t.Fatalf("the race did not happen: %d written, %d dropped", written, dropped)
	}
}
