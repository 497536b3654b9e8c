package main

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// gateWriter records what it is given; each Write waits for a token on
// gate when gate is set, and reports on started as it begins.
type gateWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	gate    chan struct{}
	started chan struct{}
	fail    error
}

func (w *gateWriter) Write(p []byte) (int, error) {
	if w.started != nil {
		w.started <- struct{}{}
	}
	if w.gate != nil {
		<-w.gate
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.fail != nil {
		return 0, w.fail
	}
	return w.buf.Write(p)
}

func (w *gateWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestAsyncOutputOrder: every line arrives whole and in order, through
// many hand-overs and flushes, and Close writes the rest.
func TestAsyncOutputOrder(t *testing.T) {
	w := &gateWriter{}
	o := newAsyncOutput(w)
	var want bytes.Buffer
	for i := range 50000 {
		line := fmt.Sprintf("{\"n\":%d,\"pad\":%q}\n", i, bytes.Repeat([]byte("x"), i%300))
		want.WriteString(line)
		if _, err := o.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if i%777 == 0 {
			o.Flush()
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if w.String() != want.String() {
		t.Fatalf("got %d bytes, want %d, or out of order", len(w.String()), want.Len())
	}
}

// TestAsyncOutputOverlaps: while the writer is busy with one buffer,
// Write goes on filling the next without waiting; it waits only when that
// one is full too.
func TestAsyncOutputOverlaps(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{}), started: make(chan struct{}, 8)}
	o := newAsyncOutput(w)
	chunk := bytes.Repeat([]byte("y"), outputBuffer)
	o.Write(chunk) // full: handed over
	<-w.started    // the writer is in its (held) write
	o.Write(chunk) // fills the second buffer without waiting: it is handed over
	third := make(chan error, 1)
	go func() {
		_, err := o.Write(chunk) // both buffers busy: this one waits
		third <- err
	}()
	w.gate <- struct{}{} // first write done: the second is taken, the third goes in
	<-w.started
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	close(w.gate)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(w.String()); got != 3*outputBuffer {
		t.Fatalf("wrote %d bytes", got)
	}
}

// TestAsyncOutputFlush: a Flush gets a short buffer written without
// waiting for Close.
func TestAsyncOutputFlush(t *testing.T) {
	w := &gateWriter{started: make(chan struct{}, 1)}
	o := newAsyncOutput(w)
	defer o.Close()
	o.Write([]byte("one line\n"))
	o.Flush()
	<-w.started
	o.Close()
	if w.String() != "one line\n" {
		t.Fatalf("%q", w.String())
	}
}

// TestAsyncOutputError: after a failed write (stdout closed), Write,
// Flush and Close report the error.
func TestAsyncOutputError(t *testing.T) {
	gone := errors.New("broken pipe")
	w := &gateWriter{fail: gone, started: make(chan struct{}, 1)}
	o := newAsyncOutput(w)
	o.Write([]byte("lost\n"))
	o.Flush()
	<-w.started
	if err := o.Close(); !errors.Is(err, gone) {
		t.Fatalf("Close: %v", err)
	}
	if _, err := o.Write([]byte("more\n")); !errors.Is(err, gone) {
		t.Fatalf("Write after the error: %v", err)
	}
}
