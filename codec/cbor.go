package codec

import (
	"errors"
	"math"
	"math/big"
	"strconv"
)

// CBOR (RFC 8949) to JSON; see msgpack.go for the rules both follow.

var errBreak = errors.New("unexpected break")

// cborToJSON decodes the first CBOR data item of p.
func cborToJSON(p []byte) ([]byte, int, error) {
	r := &cborReader{mpReader{p: p, out: make([]byte, 0, len(p)+len(p)/2+8)}}
	if err := r.item(0); err != nil {
		return nil, 0, err
	}
	return r.out, r.i, nil
}

type cborReader struct{ mpReader }

// head reads an item's initial byte and argument; indef is set for
// additional information 31.
func (r *cborReader) head() (major byte, info byte, arg uint64, indef bool, err error) {
	if r.i >= len(r.p) {
		return 0, 0, 0, false, errTruncated
	}
	c := r.p[r.i]
	r.i++
	major, info = c>>5, c&0x1f
	switch {
	case info < 24:
		arg = uint64(info)
	case info <= 27:
		arg, err = r.size(1 << (info - 24))
	case info == 31:
		indef = true
	default:
		err = errReserved
	}
	return
}

func (r *cborReader) item(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	if len(r.out) > maxJSONOut {
		return errTooBig
	}
	major, info, arg, indef, err := r.head()
	if err != nil {
		return err
	}
	if indef && (major < 2 || major == 6) {
		return errReserved
	}
	switch major {
	case 0:
		r.out = strconv.AppendUint(r.out, arg, 10)
	case 1:
		if arg < math.MaxInt64 {
			r.out = strconv.AppendInt(r.out, -1-int64(arg), 10)
		} else {
			n := new(big.Int).SetUint64(arg)
			n.Add(n, big.NewInt(1)).Neg(n)
			r.out = n.Append(r.out, 10)
		}
	case 2, 3:
		b, err := r.chunks(major, arg, indef)
		if err != nil {
			return err
		}
		if major == 2 {
			r.out = appendBytesJSON(r.out, b)
		} else {
			r.out = appendJSONString(r.out, b)
		}
	case 4:
		if !indef && arg > uint64(len(r.p)-r.i) {
			return errTruncated
		}
		r.out = append(r.out, '[')
		for k := uint64(0); indef || k < arg; k++ {
			if indef && r.atBreak() {
				break
			}
			if k > 0 {
				r.out = append(r.out, ',')
			}
			if err := r.item(depth + 1); err != nil {
				return err
			}
		}
		r.out = append(r.out, ']')
	case 5:
		if !indef && arg > uint64(len(r.p)-r.i)/2 {
			return errTruncated
		}
		r.out = append(r.out, '{')
		for k := uint64(0); indef || k < arg; k++ {
			if indef && r.atBreak() {
				break
			}
			if k > 0 {
				r.out = append(r.out, ',')
			}
			start := len(r.out)
			if err := r.item(depth + 1); err != nil {
				return err
			}
			r.out = quoteKey(r.out, start)
			r.out = append(r.out, ':')
			if err := r.item(depth + 1); err != nil {
				return err
			}
		}
		r.out = append(r.out, '}')
	case 6:
		return r.tag(arg, depth)
	case 7:
		return r.simple(info, arg, indef)
	}
	return nil
}

// atBreak consumes a break byte if one is next.
func (r *cborReader) atBreak() bool {
	if r.i < len(r.p) && r.p[r.i] == 0xff {
		r.i++
		return true
	}
	return false
}

// chunks reads a byte or text string, joining indefinite-length chunks.
func (r *cborReader) chunks(major byte, arg uint64, indef bool) ([]byte, error) {
	if !indef {
		return r.take(arg)
	}
	var b []byte
	for n := 0; ; n++ {
		if r.i >= len(r.p) {
			return nil, errTruncated
		}
		if r.atBreak() {
			return b, nil
		}
		m, _, a, ind, err := r.head()
		if err != nil {
			return nil, err
		}
		if m != major || ind {
			return nil, errReserved
		}
		c, err := r.take(a)
		if err != nil {
			return nil, err
		}
		if len(b)+len(c) > maxJSONOut {
			return nil, errTooBig
		}
		b = append(b, c...)
	}
}

func (r *cborReader) tag(tag uint64, depth int) error {
	if (tag == 2 || tag == 3) && r.i < len(r.p) && r.p[r.i]>>5 == 2 {
		save := r.i
		major, _, arg, indef, err := r.head()
		if err == nil && !indef && major == 2 && arg <= 128 {
			b, err := r.take(arg)
			if err != nil {
				return err
			}
			n := new(big.Int).SetBytes(b)
			if tag == 3 {
				n.Add(n, big.NewInt(1)).Neg(n)
			}
			r.out = n.Append(r.out, 10)
			return nil
		}
		r.i = save
	}
	r.out = append(r.out, `{"$tag":`...)
	r.out = strconv.AppendUint(r.out, tag, 10)
	r.out = append(r.out, `,"value":`...)
	if err := r.item(depth + 1); err != nil {
		return err
	}
	r.out = append(r.out, '}')
	return nil
}

func (r *cborReader) simple(info byte, arg uint64, indef bool) error {
	if indef {
		return errBreak
	}
	switch info {
	case 20:
		r.out = append(r.out, "false"...)
	case 21:
		r.out = append(r.out, "true"...)
	case 22, 23: // null, undefined
		r.out = append(r.out, "null"...)
	case 25:
		r.out = appendFloat(r.out, halfFloat(uint16(arg)), 64)
	case 26:
		r.out = appendFloat(r.out, float64(math.Float32frombits(uint32(arg))), 32)
	case 27:
		r.out = appendFloat(r.out, math.Float64frombits(arg), 64)
	default:
		r.out = append(r.out, `{"$simple":`...)
		r.out = strconv.AppendUint(r.out, arg, 10)
		r.out = append(r.out, '}')
	}
	return nil
}

// halfFloat converts an IEEE 754 half-precision float.
func halfFloat(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			v = math.Inf(1)
		} else {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		return -v
	}
	return v
}
