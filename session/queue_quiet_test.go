package session

import (
	"runtime"
	"testing"
)

// TestEventQueueQuietPush: a consumer gets every event in order, whether
// producers wake it per batch or push quietly and wake it once after (as
// a relay reader does around its write).
func TestEventQueueQuietPush(t *testing.T) {
	q := newEventQueue(1<<20, 1<<30)
	const n = 5000
	done := make(chan []int)
	go func() {
		var got []int
		var spare []Event
		for {
			b := q.take(spare, true)
			if b == nil {
				done <- got
				return
			}
			for _, ev := range b {
				got = append(got, ev.Conn)
			}
			spare = b
		}
	}()
	for i := 0; i < n; {
		switch i % 3 {
		case 0:
			b := []Event{{Conn: i}, {Conn: i + 1}}
			q.pushBatchWait(&b, false)
			q.pushQuiet(Event{Conn: i + 2})
			q.wake()
			i += 3
		case 1:
			q.push(Event{Conn: i})
			i++
		default:
			b := []Event{{Conn: i}}
			q.pushBatchWait(&b, true)
			i++
		}
		if i%500 == 0 {
			runtime.Gosched()
		}
	}
	q.close()
	got := <-done
	if len(got) < n {
		t.Fatalf("%d events of %d", len(got), n)
	}
	for i, c := range got {
		if c != i {
			t.Fatalf("event %d is %d", i, c)
		}
	}
}
