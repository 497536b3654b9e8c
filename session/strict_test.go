package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// TestStrict walks the lab's /strict/… family: each path breaks one RFC
// 6455 rule (or does something unusual but legal). For a broken rule the
// engine reports a violation naming it, answers with the rule's close
// code (which the lab receives), reports what came before it and nothing
// after it, never ends clean, and does not wait the close timeout. A legal
// path is accepted and ends clean.
func TestStrict(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, p := range lab.StrictPaths() {
		if strings.HasSuffix(p.Path, "fragmented-big") {
			continue // TestStrictMemory
		}
		t.Run(strings.TrimPrefix(p.Path, "/strict/"), func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			query := "?before=1&id=" + strings.ReplaceAll(t.Name(), "/", "-")
			if strings.Contains(p.Path, "handshake-") {
				query = "?id=" + strings.ReplaceAll(t.Name(), "/", "-")
			}
			legalOpen := p.Rule == "" && p.Code == 0 // the lab sends no close: we close
			if legalOpen {
				query += "&answer=1"
			}
			start := time.Now()
			c := r.m.Open(Options{URL: s.URL(p.Path + query), CloseTimeout: 20 * time.Second})
			if legalOpen {
				r.wait(1, 10*time.Second, "two messages", func(Event) bool {
					return count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) == 2
				})
				c.Close(1000, "")
			}
			evs := r.waitEnd(c)
			took := time.Since(start)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := s.WaitStrict(ctx, p.Path+query)
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			var msgs []string
			violated := false
			for _, ev := range evs {
				switch {
				case ev.Type == EventViolation:
					violated = true
					if ev.Rule != p.Rule || (ev.Code != p.Code && p.Rule != "data-after-close") {
						t.Errorf("violation %s, want rule %s code %d", ev.AppendJSON(nil), p.Rule, p.Code)
					}
				case ev.Type == EventMessage && ev.Dir == DirIn:
					if violated {
						t.Errorf("message after the violation: %s", ev.AppendJSON(nil))
					}
					msgs = append(msgs, string(ev.Data))
				}
			}
			if p.Rule == "" {
				if violated {
					t.Fatalf("a legal path was refused")
				}
				if !last.Clean || (p.Code != 0 && last.Code != p.Code) {
					t.Fatalf("closed: %s", last.AppendJSON(nil))
				}
				return
			}
			if !violated {
				t.Fatalf("no violation for rule %s", p.Rule)
			}
			if !strings.Contains(p.Path, "handshake-") && (len(msgs) == 0 || msgs[0] != "before") {
				t.Errorf("messages %q: the one before the offence must be reported", msgs)
			}
			if last.To != StateClosed || last.Clean || !strings.Contains(last.Detail, p.Rule) {
				t.Errorf("closed: %s", last.AppendJSON(nil))
			}
			if !res.GotClose || res.CloseCode != p.Code {
				t.Errorf("the lab got close %v %d, want %d", res.GotClose, res.CloseCode, p.Code)
			}
			if res.End == lab.StrictHoldPassed {
				t.Errorf("the lab held TCP for its 5s: a violation must fail the connection promptly, not wait the 20s close timeout (took %s)", took)
			}
		})
	}
}

// TestStrictWireOrder: a message, a ping and a close in one TCP segment
// are reported in that order, the pong answered in between.
func TestStrictWireOrder(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/strict/ordered")})
	evs := r.waitEnd(c)
	var in, all []string
	for _, ev := range evs {
		switch ev.Type {
		case EventMessage:
			in = append(in, string(ev.Data))
			all = append(all, ev.Dir+":"+string(ev.Data))
		case EventFrame:
			if ev.Dir == DirIn {
				in = append(in, ev.Opcode)
			}
			all = append(all, ev.Dir+":"+ev.Opcode)
		}
	}
	if got := strings.Join(in, " "); got != "a ping b close" {
		t.Fatalf("incoming order %s, want a ping b close", got)
	}
	// Our pong answers the ping (after it) and goes before our close.
	seq := strings.Join(all, " ")
	if p, c := strings.Index(seq, "out:pong"), strings.Index(seq, "out:close"); p < strings.Index(seq, "in:ping") || p > c {
		t.Fatalf("order %s", seq)
	}
	if last := evs[len(evs)-1]; last.Code != 4011 || !last.Clean {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
}

// TestStrictMemory: a 512 MiB fragmented message against a 1 MiB limit is
// refused with 1009 as soon as its fragments pass the limit: the engine
// never holds more than the limit, and the lab stops streaming at once.
func TestStrictMemory(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/strict/fragmented-big?mib=512"), MaxMessage: 1 << 20})
	evs := r.waitEnd(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.WaitStrict(ctx, "/strict/fragmented-big")
	if err != nil {
		t.Fatal(err)
	}
	v := r.wait(1, time.Second, "violation", func(ev Event) bool { return ev.Type == EventViolation })
	if v.Rule != "message-too-big" || v.Code != 1009 || res.CloseCode != 1009 {
		t.Fatalf("violation %s; the lab got close %d", v.AppendJSON(nil), res.CloseCode)
	}
	if res.Streamed > 64<<20 {
		t.Fatalf("the lab streamed %d bytes before the engine refused the message", res.Streamed)
	}
	if n := count(evs, func(ev Event) bool { return ev.Type == EventMessage }); n != 0 {
		t.Fatalf("%d messages reported", n)
	}
}
