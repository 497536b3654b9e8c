package ui

// The log's row index: which entries pass the view, kept in step with the
// events as they arrive and rebuilt only when the view itself changes.

// onApplied keeps rows in step with one applied event.
func (p *logPane) onApplied(res applied) {
	if res.evicted && p.matches(&res.old) {
		p.holes++
		p.trimFront()
	}
	if e := p.c.socks.entry(res.added); e != nil && p.matches(e) {
		p.rows = append(p.rows, res.added)
		if p.follow {
			p.cursor = len(p.rows) - 1
		} else {
			p.newCount++
		}
	}
	if p.holes > 1024 && p.holes > len(p.rows)/8 {
		p.compact()
	}
}

func (p *logPane) isHole(i int) bool { return p.c.socks.entry(p.rows[i]) == nil }

// trimFront drops holes at the front of rows, keeping cursor and top on
// the same entries.
func (p *logPane) trimFront() {
	n := 0
	for n < len(p.rows) && p.isHole(n) {
		n++
	}
	if n == 0 {
		return
	}
	p.rows = p.rows[n:]
	p.holes -= n
	p.cursor = max(p.cursor-n, 0)
	p.top = max(p.top-n, 0)
}

// compact removes every hole, keeping cursor and top on the same entries.
func (p *logPane) compact() {
	out := p.rows[:0]
	cur, top := 0, 0
	for i, r := range p.rows {
		if i == p.cursor {
			cur = len(out)
		}
		if i == p.top {
			top = len(out)
		}
		if p.c.socks.entry(r) != nil {
			out = append(out, r)
		}
	}
	p.rows, p.holes = out, 0
	p.cursor = clamp(cur, 0, max(len(out)-1, 0))
	p.top = clamp(top, 0, max(len(out)-1, 0))
}

// rebuild scans every kept entry again; it runs when the view changes.
func (p *logPane) rebuild() {
	socks := p.c.socks
	p.rows, p.holes, p.newCount = p.rows[:0], 0, 0
	switch {
	case p.all:
		p.merge(socks.order)
	case p.viewPair() != 0:
		p.merge(socks.pair(p.viewPair()).legs())
	default:
		if sk := socks.get(p.socket); sk != nil {
			for i := sk.log.start; i < sk.log.next; i++ {
				if p.matches(sk.log.at(i)) {
					p.rows = append(p.rows, makeRef(sk.id, i))
				}
			}
		}
	}
	p.follow = true
	p.cursor = max(len(p.rows)-1, 0)
	p.top = 0
}

// merge adds the entries of several sockets that pass the view, in
// arrival order.
func (p *logPane) merge(ids []int) {
	socks := p.c.socks
	heads := make([]uint64, len(ids))
	for i, id := range ids {
		heads[i] = socks.byID[id].log.start
	}
	for {
		best, bestSeq := -1, uint64(0)
		for i, id := range ids {
			if e := socks.byID[id].log.at(heads[i]); e != nil && (best < 0 || e.seq < bestSeq) {
				best, bestSeq = i, e.seq
			}
		}
		if best < 0 {
			break
		}
		id := ids[best]
		if p.matches(socks.byID[id].log.at(heads[best])) {
			p.rows = append(p.rows, makeRef(id, heads[best]))
		}
		heads[best]++
	}
}

// refine narrows rows to a stricter filter without scanning everything.
func (p *logPane) refine() {
	out := p.rows[:0]
	for _, r := range p.rows {
		if e := p.c.socks.entry(r); e != nil && p.filter.match(e) {
			out = append(out, r)
		}
	}
	p.rows, p.holes = out, 0
	p.follow = true
	p.cursor = max(len(p.rows)-1, 0)
}
