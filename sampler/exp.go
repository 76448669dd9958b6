package sampler

import "math"

// exp2Table[j] = 2^(j/64), j = 0 … 63.
var exp2Table = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// expPair returns e^x and e^−x for x in [−LogScoreLimit, LogScoreLimit],
// the range of a clamped log-score, each within 6e-16 relative of math.Exp
// (TestExpPairMatchesMathExp) at less than the cost of one math.Exp here:
// they are the largest part of the CP step's work at large K.
// Method: x = (64k + j)·ln2/64 + r with |r| ≤ ln2/128 (n = 64k + j rounded
// to nearest by adding 1.5·2^52, whose low mantissa bits then hold n; ln 2
// split in two so that n·ln2Hi is exact); e^±r = E(r) ± O(r), the even and
// odd parts of its Taylor polynomial to degree 5 (truncation below 4e-17);
// times 2^(±j/64) from a table and 2^±k set in the exponent bits. Plain
// multiplies and adds, no math.Floor or math.FMA: without GOAMD64=v3 those
// check the CPU on every call.
func expPair(x float64) (float64, float64) {
	const (
		ln2Hi = 6.93147180369123816490e-01 / 64 // ln 2 to 32 bits: n·ln2Hi is exact for |n| < 2^20
		ln2Lo = 1.90821492927058770002e-10 / 64 // ln 2 − 64·ln2Hi, over 64
		shift = 0x1.8p52
	)
	t := x*(64*math.Log2E) + shift
	n := t - shift
	r := (x - n*ln2Hi) - n*ln2Lo
	r2 := r * r
	even := 1 + r2*(0.5+r2*(1.0/24))
	odd := r * (1 + r2*(1.0/6+r2*(1.0/120)))
	i := int64(math.Float64bits(t)<<13) >> 13 // n, sign-extended from the mantissa's low 51 bits
	return (even + odd) * exp2Table[i&63] * math.Float64frombits(uint64((i>>6)+1023)<<52),
		(even - odd) * exp2Table[-i&63] * math.Float64frombits(uint64((-i>>6)+1023)<<52)
}
