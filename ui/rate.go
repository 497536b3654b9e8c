package ui

import "time"

// rateMeter counts received messages and bytes per second of event time, in
// a small ring of one-second buckets, so the title bar can show a rate
// without keeping any history.
type rateMeter struct {
	sec   [8]int64 // unix second each bucket holds
	msgs  [8]int64
	bytes [8]int64
}

func (r *rateMeter) add(t time.Time, n int64) {
	s := t.Unix()
	i := s & 7
	if r.sec[i] != s {
		r.sec[i], r.msgs[i], r.bytes[i] = s, 0, 0
	}
	r.msgs[i]++
	r.bytes[i] += n
}

// perSecond averages the two complete seconds before now.
func (r *rateMeter) perSecond(now time.Time) (msgs, bytes float64) {
	s := now.Unix()
	for d := int64(1); d <= 2; d++ {
		i := (s - d) & 7
		if r.sec[i] == s-d {
			msgs += float64(r.msgs[i])
			bytes += float64(r.bytes[i])
		}
	}
	return msgs / 2, bytes / 2
}
