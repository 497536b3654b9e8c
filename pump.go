package main

import (
	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/session"
)

// pump is the one road every event of a run takes out of the engine, in
// order: completed by the connection book (see), recorded once, then
// handed to the front-end. line is the event as a JSON line when encode is
// set (the headless mode prints it, and the same bytes are recorded), nil
// otherwise. The sink's answer says whether the front-end still wants
// events; once it does not, events are still recorded until the stream
// ends, so the sockets never wait for a front-end that has gone.
func pump(in <-chan session.Event, see func(*session.Event), rec recorder, encode bool, sink func(ev *session.Event, line []byte) bool) {
	var buf []byte
	wanted := true
	// One variable for every event: a new one per iteration would move
	// each event to the heap, since its address goes to the recorder.
	var ev session.Event
	for ev = range in {
		if see != nil {
			see(&ev)
		}
		var line []byte
		if encode {
			buf = history.AppendJSONLine(buf[:0], &ev)
			line = buf
		}
		if rec != nil {
			if line != nil {
				rec.RecordLine(&ev, line)
			} else {
				rec.Record(&ev)
			}
		}
		if wanted {
			wanted = sink(&ev, line)
		}
	}
}
