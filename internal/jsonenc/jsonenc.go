// Package jsonenc appends JSON values to a byte slice without reflection,
// byte for byte as encoding/json writes them (Marshal, or an Encoder with
// its default HTML escaping). The record encoders of classify and pipeline
// build on it: at K=10⁵ a record is 10⁵ numbers, and reflection, a float
// formatter's allocations and a growing buffer cost more than the numbers.
package jsonenc

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safe marks the ASCII bytes a JSON string holds as they are: printable,
// not '"' or '\\', and not '<', '>' or '&' (escaped as encoding/json does
// by default, so that a key cannot open a tag where a line is shown in HTML).
var safe = func() (s [utf8.RuneSelf]bool) {
	for b := byte(0x20); b < utf8.RuneSelf; b++ {
		s[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return s
}()

// String appends s as a JSON string. Control characters are escaped (\n,
// \r, \t, \b, \f by name, the others as \u00XX), invalid UTF-8 becomes
// \ufffd, and U+2028 and U+2029 are escaped, all as encoding/json does.
func String(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = appendEscapedByte(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = `\ufffd`
		case r == '\u2028':
			esc = `\u2028`
		case r == '\u2029':
			esc = `\u2029`
		default:
			i += size
			continue
		}
		dst = append(append(dst, s[start:i]...), esc...)
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// appendEscapedByte appends the escape of an ASCII byte that is not safe.
func appendEscapedByte(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// Float64 appends f as encoding/json writes a float64: the shortest
// decimal that parses back to f, in plain notation unless |f| < 1e-6 or
// |f| >= 1e21, where the exponent has no leading zero (1e-7, not 1e-07).
// f must be finite (encoding/json refuses NaN and ±Inf; see Finite).
func Float64(dst []byte, f float64) []byte {
	a := math.Abs(f)
	if a != 0 && (a < 1e-6 || a >= 1e21) {
		return trimExponent(strconv.AppendFloat(dst, f, 'e', -1, 64))
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// Float32 appends f as encoding/json writes a float32: the shortest decimal
// that parses back to f at 32 bits, with Float64's notation rule.
func Float32(dst []byte, f float32) []byte {
	a := float32(math.Abs(float64(f)))
	if a != 0 && (a < 1e-6 || a >= 1e21) {
		return trimExponent(strconv.AppendFloat(dst, float64(f), 'e', -1, 32))
	}
	return strconv.AppendFloat(dst, float64(f), 'f', -1, 32)
}

// CompactFloat32 appends f as Float32 does, but in exponent notation from
// |f| < 1e-3 (not 1e-6) down, where that notation is the shorter one:
// 1.2345678e-5, not 0.000012345678. It parses to the same number; only the
// text for 1e-6 <= |f| < 1e-3 differs from encoding/json's.
func CompactFloat32(dst []byte, f float32) []byte {
	a := float32(math.Abs(float64(f)))
	if a != 0 && (a < 1e-3 || a >= 1e21) {
		return trimExponent(strconv.AppendFloat(dst, float64(f), 'e', -1, 32))
	}
	return strconv.AppendFloat(dst, float64(f), 'f', -1, 32)
}

// trimExponent turns the two-digit negative exponent strconv writes at the
// end of b ("e-07") into encoding/json's one digit ("e-7").
func trimExponent(b []byte) []byte {
	n := len(b)
	if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		return b[:n-1]
	}
	return b
}

// Int appends i in decimal.
func Int(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(i), 10) }

// Finite reports whether f is a number JSON can hold (not NaN or ±Inf).
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
