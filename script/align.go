package script

import (
	"encoding/json"
	"slices"
)

// maxAlignCells bounds the table of the exact alignment (recorded ×
// replayed messages between the common start and end): past it the
// messages are compared position by position.
const maxAlignCells = 1 << 22

// align compares the replayed incoming messages with the recorded ones and
// returns the differences, counting the equal ones in equal. The two are
// aligned first (longest common subsequence of equal messages), so that a
// message added or left out is one difference, not a shift of every
// message after it. Between two aligned messages, a recorded and a
// replayed message of the same kind (text or binary, JSON or not) are
// paired as one that changed; the others are missing or added.
func align(want, got []Step, ignore []IgnorePath, equal *int) []DiffItem {
	same := func(i, j int) bool { return sameStep(&want[i], &got[j], ignore) }
	// The common start and end cost one comparison a message.
	pre := 0
	for pre < len(want) && pre < len(got) && same(pre, pre) {
		pre++
	}
	suf := 0
	for suf < len(want)-pre && suf < len(got)-pre && same(len(want)-1-suf, len(got)-1-suf) {
		suf++
	}
	w0, w1, g0, g1 := pre, len(want)-suf, pre, len(got)-suf
	n, m := w1-w0, g1-g0
	if n == 0 && m == 0 {
		*equal += pre + suf
		return nil
	}
	var matches [][2]int // aligned equal pairs (recorded, replayed), in order
	if n > 0 && m > 0 && n*m <= maxAlignCells {
		matches = lcs(want[w0:w1], got[g0:g1], ignore)
	} else {
		for k := range min(n, m) {
			if same(w0+k, g0+k) {
				matches = append(matches, [2]int{k, k})
			}
		}
	}
	// The whole alignment as a list of steps: equal (i, j), left out (i,
	// -1) or added (-1, j).
	ops := make([][2]int, 0, len(want)+len(got))
	for k := range pre {
		ops = append(ops, [2]int{k, k})
	}
	i, j := 0, 0
	for _, mt := range append(matches, [2]int{n, m}) {
		for ; i < mt[0]; i++ {
			ops = append(ops, [2]int{w0 + i, -1})
		}
		for ; j < mt[1]; j++ {
			ops = append(ops, [2]int{-1, g0 + j})
		}
		if mt[0] < n {
			ops = append(ops, [2]int{w0 + mt[0], g0 + mt[1]})
		}
		i, j = mt[0]+1, mt[1]+1
	}
	for k := range suf {
		ops = append(ops, [2]int{w1 + k, g1 + k})
	}
	// Where a message repeats, the first of the repeats is the one that
	// was recorded and the last the one added (or left out): slide each
	// addition or omission past the equal copies that follow it.
	for k := 0; k+1 < len(ops); k++ {
		a, b := ops[k], ops[k+1]
		switch {
		case a[0] < 0 && b[0] >= 0 && b[1] >= 0 && sameStep(&got[a[1]], &got[b[1]], ignore):
			ops[k], ops[k+1] = [2]int{b[0], a[1]}, [2]int{-1, b[1]}
		case a[1] < 0 && b[0] >= 0 && b[1] >= 0 && sameStep(&want[a[0]], &want[b[0]], ignore):
			ops[k], ops[k+1] = [2]int{a[0], b[1]}, [2]int{b[0], -1}
		}
	}
	var items []DiffItem
	for k := 0; k < len(ops); {
		if ops[k][0] >= 0 && ops[k][1] >= 0 {
			*equal++
			k++
			continue
		}
		var left, added []int
		for ; k < len(ops) && (ops[k][0] < 0 || ops[k][1] < 0); k++ {
			if ops[k][0] >= 0 {
				left = append(left, ops[k][0])
			} else {
				added = append(added, ops[k][1])
			}
		}
		items = append(items, gap(want, got, ignore, left, added)...)
	}
	return items
}

// sameStep reports whether two messages compare equal.
func sameStep(a, b *Step, ignore []IgnorePath) bool {
	what, _, _ := differs(a, b, ignore)
	return what == ""
}

// lcs returns the pairs of a longest common subsequence of equal messages,
// as indices into want and got.
func lcs(want, got []Step, ignore []IgnorePath) [][2]int {
	wk, gk := make([]string, len(want)), make([]string, len(got))
	for i := range want {
		wk[i] = compareKey(&want[i], ignore)
	}
	for j := range got {
		gk[j] = compareKey(&got[j], ignore)
	}
	n, m := len(want), len(got)
	// t[i*(m+1)+j] is the length of an LCS of want[i:] and got[j:]; it
	// fits in 16 bits because min(n, m)² ≤ n·m ≤ maxAlignCells.
	t := make([]uint16, (n+1)*(m+1))
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case wk[i] == gk[j]:
				t[i*(m+1)+j] = t[(i+1)*(m+1)+j+1] + 1
			default:
				t[i*(m+1)+j] = max(t[(i+1)*(m+1)+j], t[i*(m+1)+j+1])
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case wk[i] == gk[j]:
			out = append(out, [2]int{i, j})
			i, j = i+1, j+1
		case t[(i+1)*(m+1)+j] >= t[i*(m+1)+j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// compareKey is a message as the comparison sees it: its kind and its
// payload, a JSON one written back without the ignored paths (with its
// keys sorted), so that two messages are equal exactly when their keys are.
func compareKey(s *Step, ignore []IgnorePath) string {
	var v any
	if json.Unmarshal(s.Data, &v) == nil {
		for _, p := range ignore {
			v = without(v, p.Path)
		}
		if b, err := json.Marshal(v); err == nil {
			return s.Opcode + "\x00j" + string(b)
		}
	}
	return s.Opcode + "\x00r" + string(s.Data)
}

// gap reports the messages between two aligned ones: the recorded ones
// left (not replayed as recorded) and the replayed ones added (not
// recorded), each in order. A left and an added message that are alike
// are paired as one message that changed.
func gap(want, got []Step, ignore []IgnorePath, left, added []int) []DiffItem {
	type keyed struct {
		key  int
		item DiffItem
	}
	var out []keyed
	paired := make([]bool, len(added))
	next := 0
	for li, i := range left {
		p := -1
		for a := next; a < len(added); a++ {
			if alike(&want[i], &got[added[a]]) {
				p = a
				break
			}
		}
		if p < 0 {
			out = append(out, keyed{2 * li, DiffItem{Index: i + 1, What: "missing from the replay", Recorded: &want[i]}})
			continue
		}
		paired[p], next = true, p+1
		j := added[p]
		what, was, now := differs(&want[i], &got[j], ignore)
		out = append(out, keyed{2*max(li, p) + 1, DiffItem{
			Index: i + 1, ReplayedIndex: j + 1, What: what, Recorded: &want[i], Replayed: &got[j], Was: was, Now: now,
		}})
	}
	for a, j := range added {
		if !paired[a] {
			out = append(out, keyed{2 * a, DiffItem{Index: j + 1, What: "not in the recording", Replayed: &got[j]}})
		}
	}
	slices.SortStableFunc(out, func(a, b keyed) int { return a.key - b.key })
	items := make([]DiffItem, len(out))
	for k, o := range out {
		items[k] = o.item
	}
	return items
}

// alike reports whether a replayed message is plausibly the recorded one,
// changed: the same kind, and JSON both or neither.
func alike(w, g *Step) bool {
	return w.Opcode == g.Opcode && json.Valid(w.Data) == json.Valid(g.Data)
}
