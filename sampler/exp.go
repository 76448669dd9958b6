package sampler

import "math"

// exp2Table[j] = 2^(j/64), j = 0 … 63.
var exp2Table = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// expNonPositive is e^x for x in [−100, 0], the range of the CP step's
// exponent (two clamped log-scores apart, LogScoreLimit = 50), to within
// 5e-16 relative of math.Exp (TestExpNonPositiveMatchesMathExp) at half its
// cost here; it is the largest part of the sampler's work at large K.
// Method: x = (64k + j)·ln2/64 + r with |r| ≤ ln2/128 (ln 2 split in two so
// the product with n = 64k + j is exact), e^r by its Taylor polynomial to
// degree 5 (truncation below 4e-17), times 2^(j/64) from a table, times 2^k
// set in the exponent bits.
func expNonPositive(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 / 64 // ln 2 to 32 bits: n·ln2Hi is exact for |n| < 2^20
		ln2Lo = 1.90821492927058770002e-10 / 64 // ln 2 − 64·ln2Hi, over 64
	)
	n := math.Floor(x*(64*math.Log2E) + 0.5)
	r := (x - n*ln2Hi) - n*ln2Lo
	p := math.FMA(r, 1.0/120, 1.0/24)
	p = math.FMA(p, r, 1.0/6)
	p = math.FMA(p, r, 0.5)
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	i := int64(n)
	return p * exp2Table[i&63] * math.Float64frombits(uint64((i>>6)+1023)<<52)
}
