// Command bareclient is the bare baseline of bench/: a WebSocket client on
// github.com/gobwas/ws alone that prints every message it receives as one
// JSON line shaped like wsinspect's message events (same fields, so the
// same bytes reach the terminal), answers pings and the close, and exits
// when the connection has closed. It is what a program does that reads
// frames with gobwas/ws and prints them, nothing more: no events, no
// queue, no history.
//
//	go run ./bench/bareclient ws://127.0.0.1:8765/flood?n=1000
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bareclient ws://HOST:PORT/PATH")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bareclient:", err)
		os.Exit(1)
	}
}

func run(url string, stdout io.Writer) error {
	conn, br, _, err := ws.Dial(context.Background(), url)
	if err != nil {
		return fmt.Errorf("failed to dial %s: %w", url, err)
	}
	defer conn.Close()
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	var (
		msg    []byte // the message being assembled
		op     ws.OpCode
		frames int
		line   []byte
	)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return fmt.Errorf("failed to read a frame header: %w", err)
		}
		if h.Length > 64<<20 {
			return fmt.Errorf("a %d-byte frame is over the 64 MiB limit", h.Length)
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(br, p); err != nil {
				return fmt.Errorf("failed to read a control frame: %w", err)
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewPongFrame(p))); err != nil {
					return err
				}
			case ws.OpClose:
				code, _ := ws.ParseCloseFrameData(p)
				var body []byte
				if len(p) >= 2 {
					body = ws.NewCloseFrameBody(code, "")
				}
				if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewCloseFrame(body))); err != nil {
					return err
				}
				if len(p) >= 2 && code != ws.StatusNormalClosure {
					return fmt.Errorf("closed with %d", code)
				}
				return nil
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op, frames, msg = h.OpCode, 0, msg[:0]
		}
		start := len(msg)
		msg = append(msg, make([]byte, h.Length)...)
		if _, err := io.ReadFull(br, msg[start:]); err != nil {
			return fmt.Errorf("failed to read a data frame: %w", err)
		}
		if h.Masked {
			ws.Cipher(msg[start:], h.Mask, 0)
		}
		frames++
		if !h.Fin {
			continue
		}
		if op == ws.OpText && !utf8.Valid(msg) {
			return fmt.Errorf("a text message is not valid UTF-8")
		}
		line = appendMessage(line[:0], op, msg, frames)
		if _, err := out.Write(line); err != nil {
			return err
		}
		if cap(msg) > 1<<20 {
			msg = nil // do not hold a large message's buffer
		}
		if br.Buffered() == 0 {
			// Nothing more has arrived: show what we have.
			if err := out.Flush(); err != nil {
				return err
			}
		}
	}
}

// appendMessage appends a message as wsinspect prints a message event.
func appendMessage(b []byte, op ws.OpCode, p []byte, frames int) []byte {
	b = append(b, `{"time":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","conn":1,"type":"message","role":"client","dir":"in","opcode":"`...)
	if op == ws.OpText {
		b = append(b, `text","len":`...)
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, `,"text":`...)
		b = appendString(b, p)
	} else {
		b = append(b, `binary","len":`...)
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, `,"base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, p)
		b = append(b, '"')
	}
	b = append(b, `,"frames":`...)
	b = strconv.AppendInt(b, int64(frames), 10)
	return append(b, "}\n"...)
}

// appendString appends valid UTF-8 as a JSON string.
func appendString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
