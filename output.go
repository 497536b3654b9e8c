package main

import (
	"io"
	"sync"
)

// output is where the headless mode writes its JSON lines: Flush hands
// over what is buffered (the stream has paused), Close writes the rest and
// reports the first write error.
type output interface {
	Write(p []byte) (int, error)
	Flush() error
	Close() error
}

// outputBuffer is how much asyncOutput gathers before a write; a written
// buffer up to maxSpareOutput (one line of a 1 MiB message) is kept for the
// next.
const (
	outputBuffer   = 64 << 10
	maxSpareOutput = 4 << 20
)

// asyncOutput is the headless mode's stdout: lines are gathered in a
// 64 KiB buffer and written by a goroutine of its own, with a second
// buffer filling meanwhile, so the next lines are encoded while a
// terminal or a pipe takes the last ones (writing into a terminal is the
// slowest step of the headless mode, and it no longer stops the rest).
// Lines are written whole and in order. After a write error, Write and
// Flush return it and what is buffered is dropped: nobody reads.
type asyncOutput struct {
	w     io.Writer
	mu    sync.Mutex
	cond  sync.Cond
	cur   []byte   // being filled by Write
	full  []byte   // handed over, not yet taken by the writer (nil: none)
	spare [][]byte // written buffers, for reuse
	want  bool     // Flush: the writer takes cur as soon as it is free
	done  bool     // Close: write the rest, then stop
	err   error
	ended chan struct{}
}

func newAsyncOutput(w io.Writer) *asyncOutput {
	o := &asyncOutput{w: w, cur: make([]byte, 0, outputBuffer), ended: make(chan struct{})}
	o.cond.L = &o.mu
	go o.loop()
	return o
}

// Write adds p to the buffer; it waits only when both buffers are full.
func (o *asyncOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	if o.done {
		return 0, io.ErrClosedPipe
	}
	o.cur = append(o.cur, p...)
	if len(o.cur) >= outputBuffer {
		for o.full != nil && o.err == nil {
			o.cond.Wait()
		}
		if o.err != nil {
			return 0, o.err
		}
		o.full, o.cur = o.cur, o.fresh()
		o.cond.Broadcast()
	}
	return len(p), nil
}

// Flush asks for what is buffered to be written without waiting for it.
func (o *asyncOutput) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.cur) > 0 {
		o.want = true
		o.cond.Broadcast()
	}
	return o.err
}

// Close writes everything buffered, stops the writer and returns the first
// write error.
func (o *asyncOutput) Close() error {
	o.mu.Lock()
	o.done = true
	o.cond.Broadcast()
	o.mu.Unlock()
	<-o.ended
	return o.err
}

// fresh is an empty buffer, a written one when there is one; o.mu held.
func (o *asyncOutput) fresh() []byte {
	if n := len(o.spare); n > 0 {
		b := o.spare[n-1]
		o.spare = o.spare[:n-1]
		return b[:0]
	}
	return make([]byte, 0, outputBuffer)
}

// loop is the writer: the handed-over buffer first, then the one being
// filled when a Flush or Close asks for it.
func (o *asyncOutput) loop() {
	defer close(o.ended)
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		var b []byte
		switch {
		case o.full != nil:
			b, o.full = o.full, nil
		case len(o.cur) > 0 && (o.want || o.done):
			b, o.cur = o.cur, o.fresh()
			o.want = false
		case o.done:
			return
		default:
			o.cond.Wait()
			continue
		}
		o.cond.Broadcast() // a Write may wait for o.full to be taken
		if o.err == nil {
			o.mu.Unlock()
			_, err := o.w.Write(b)
			o.mu.Lock()
			if err != nil && o.err == nil {
				o.err = err
				o.cond.Broadcast()
			}
		}
		if cap(b) <= maxSpareOutput && len(o.spare) < 2 {
			o.spare = append(o.spare, b[:0])
		}
	}
}
