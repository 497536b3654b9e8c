package history

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// LoadHAR reads the WebSocket entries of a HAR file, as Chrome DevTools
// and ExportHAR write them (_webSocketMessages), as events: each entry is a
// socket with its URL, its open, and its messages in order. A HAR holds no
// close, no control frames and no handshake details.
// Only a regular file is read (a FIFO would block until a writer came);
// the errors name the file.
func LoadHAR(path string) ([]session.Event, error) {
	f, err := OpenRegular(path, "a HAR file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	events, err := ReadHAR(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return events, nil
}

// ReadHAR is LoadHAR on a reader.
func ReadHAR(r io.Reader) ([]session.Event, error) {
	var doc harDoc
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a HAR file: %w", err)
	}
	var events []session.Event
	conn := 0
	for _, e := range doc.Log.Entries {
		if e.ResourceType != "websocket" && len(e.WebSocketMessages) == 0 {
			continue
		}
		conn++
		start, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
		if err != nil && len(e.WebSocketMessages) > 0 {
			start = harTime(e.WebSocketMessages[0].Time)
		}
		base := session.Event{Conn: conn, Role: session.RoleClient}
		ev := base
		ev.Time, ev.Type, ev.To, ev.URL = start, session.EventState, session.StateConnecting, e.Request.URL
		events = append(events, ev)
		if e.Response.Status != 101 && len(e.WebSocketMessages) == 0 {
			ev.From, ev.To, ev.URL, ev.Status, ev.Error = session.StateConnecting, session.StateFailed, "", e.Response.Status, e.Response.Error
			events = append(events, ev)
			continue
		}
		ev.From, ev.To, ev.URL = session.StateConnecting, session.StateOpen, ""
		events = append(events, ev)
		for i, m := range e.WebSocketMessages {
			ev := base
			ev.Time, ev.Type, ev.Dir, ev.Opcode = harTime(m.Time), session.EventMessage, session.DirIn, "text"
			if m.Type == "send" {
				ev.Dir = session.DirOut
			}
			switch m.Opcode {
			case 1:
				ev.Data = []byte(m.Data)
			case 2:
				b, err := base64.StdEncoding.DecodeString(m.Data)
				if err != nil {
					return nil, fmt.Errorf("HAR entry %d, message %d: binary data is not base64: %w", conn, i+1, err)
				}
				ev.Opcode, ev.Data = "binary", b
			default:
				continue // control frames, when a tool records them
			}
			ev.Len = len(ev.Data)
			events = append(events, ev)
		}
	}
	if conn == 0 {
		return nil, errors.New("the HAR has no WebSocket entry")
	}
	return events, nil
}

// harTime converts a HAR message time (Unix seconds, a float) to a time,
// to the microsecond: a float64 of today's seconds holds no more.
func harTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1000).UTC()
}
