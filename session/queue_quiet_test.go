package session

import (
	"runtime"
	"testing"
	"time"
)

// TestEventQueueQuietPush: a consumer gets every event in order, whether
// producers wake it per batch or push quietly and have it woken soon
// after (as a relay reader does around its write), and a wakeSoon with
// nothing after it still wakes the consumer.
func TestEventQueueQuietPush(t *testing.T) {
	q := newEventQueue(1<<20, 1<<30)
	const n = 5000
	got := make([]int, 0, n)
	all := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var spare []Event
		for {
			b := q.take(spare, true)
			if b == nil {
				return
			}
			for _, ev := range b {
				got = append(got, ev.Conn)
			}
			if len(got) == n {
				close(all)
			}
			spare = b
		}
	}()
	i := 0
	for k := 0; i < n-1; k++ {
		switch k % 3 {
		case 0:
			b := []Event{{Conn: i}, {Conn: i + 1}}
			q.pushBatchWait(&b, false)
			i += 2
		case 1:
			q.push(Event{Conn: i})
			i++
		default:
			b := []Event{{Conn: i}}
			q.pushBatchWait(&b, true)
			i++
		}
		if k%7 == 0 && i < n {
			q.pushQuiet(Event{Conn: i})
			i++
			q.wakeSoon()
		}
		if k%500 == 0 {
			runtime.Gosched()
		}
	}
	for ; i < n; i++ {
		q.pushQuiet(Event{Conn: i})
	}
	q.wakeSoon() // the last events are quiet: only this wakes the consumer
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("wakeSoon did not wake the consumer for the last events")
	}
	q.close()
	<-done
	for i, c := range got {
		if c != i {
			t.Fatalf("event %d is %d", i, c)
		}
	}
}
