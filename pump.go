package main

import (
	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/session"
)

// eventSource hands over the engine's events in batches (Manager.Take):
// everything waiting, an empty batch when nothing does and wait is unset,
// nil at the end of the stream.
type eventSource func(spare []session.Event, wait bool) []session.Event

// pump is the one road every event of a run takes out of the engine, in
// order: completed by the connection book (see), recorded once, then
// handed to the front-end. line is the event as a JSON line when encode is
// set (the headless mode prints it, and the same bytes are recorded), nil
// otherwise. The sink's answer says whether the front-end still wants
// events; once it does not, events are still recorded until the stream
// ends, so the sockets never wait for a front-end that has gone. idle, if
// set, runs whenever every event so far has been handed over and the next
// has not arrived (the headless mode flushes its output there).
func pump(next eventSource, see func(*session.Event), rec recorder, encode bool, sink func(ev *session.Event, line []byte) bool, idle func()) {
	var buf []byte
	wanted := true
	var batch []session.Event
	for {
		batch = next(batch, false)
		if batch != nil && len(batch) == 0 {
			if idle != nil {
				idle()
			}
			batch = next(batch, true)
		}
		if batch == nil {
			return
		}
		for i := range batch {
			ev := &batch[i]
			if see != nil {
				see(ev)
			}
			var line []byte
			if encode {
				buf = history.AppendJSONLine(buf[:0], ev)
				line = buf
			}
			if rec != nil {
				if line != nil {
					rec.RecordLine(ev, line)
				} else {
					rec.Record(ev)
				}
			}
			if wanted {
				wanted = sink(ev, line)
			}
		}
	}
}
