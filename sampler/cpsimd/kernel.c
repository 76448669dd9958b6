// AVX2/FMA versions of sampler.GoKernel's three loops, four classes per
// instruction. Same formulas; the sums run in eight lanes, so they differ
// from the Go loops only by the order of addition.
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernel.h"

#define TGT __attribute__((target("avx2,fma")))

int cpsimd_supported(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// ln 2 in two parts: k·LN2_HI is exact for |k| < 2^20.
static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
static const double LIMIT = 50.0; // sampler.LogScoreLimit

// exp_pair sets *ep = e^x and *em = e^-x for x in [-LIMIT, LIMIT]:
// x = k·ln2 + r with k = round(x·log2 e) and |r| ≤ ln2/2, e^±r = E(r) ± O(r)
// (the even and odd parts of the Taylor series to degree 13, truncation
// below 5e-18), times 2^±k set in the exponent bits (|k| ≤ 73). No table,
// so no gathers.
static inline TGT void exp_pair(__m256d x, __m256d *ep, __m256d *em) {
	const __m256d shift = _mm256_set1_pd(0x1.8p52);
	__m256d t = _mm256_fmadd_pd(x, _mm256_set1_pd(M_LOG2E), shift);
	__m256d k = _mm256_sub_pd(t, shift);
	__m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_HI), x);
	r = _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_LO), r);
	__m256d r2 = _mm256_mul_pd(r, r);
	__m256d ev = _mm256_set1_pd(1.0 / 479001600);
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(1.0 / 3628800));
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(1.0 / 40320));
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(1.0 / 720));
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(1.0 / 24));
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(0.5));
	ev = _mm256_fmadd_pd(ev, r2, _mm256_set1_pd(1.0));
	__m256d od = _mm256_set1_pd(1.0 / 6227020800);
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0 / 39916800));
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0 / 362880));
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0 / 5040));
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0 / 120));
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0 / 6));
	od = _mm256_fmadd_pd(od, r2, _mm256_set1_pd(1.0));
	od = _mm256_mul_pd(od, r);
	// t's bits are shift's plus k (|k| < 2^51), so their difference is k.
	__m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(shift));
	__m256i bias = _mm256_set1_epi64x(1023);
	__m256d up = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(bias, ki), 52));
	__m256d down = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(bias, ki), 52));
	*ep = _mm256_mul_pd(_mm256_add_pd(ev, od), up);
	*em = _mm256_mul_pd(_mm256_sub_pd(ev, od), down);
}

static inline TGT double hsum(__m256d v) {
	__m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
	return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// columns4 handles the 4 classes at l[0..3]; mask keeps the lanes that are
// classes (all but the padding of the last block).
static inline TGT void columns4(__m128 lf, __m256d pv, __m256d mask, __m256d *e, __m256d *inv, __m256d *s,
                                __m256d *w, __m256d *bad) {
	__m256d x = _mm256_cvtps_pd(lf);
	*bad = _mm256_or_pd(*bad, _mm256_and_pd(mask, _mm256_cmp_pd(x, x, _CMP_UNORD_Q)));
	x = _mm256_max_pd(_mm256_min_pd(x, _mm256_set1_pd(LIMIT)), _mm256_set1_pd(-LIMIT));
	exp_pair(x, e, inv);
	*s = _mm256_add_pd(*s, _mm256_and_pd(mask, *e));
	*w = _mm256_fmadd_pd(pv, _mm256_and_pd(mask, *inv), *w);
}

TGT static int columns(const float *l, const double *p, double *e, double *inv, int64_t n, double *sw) {
	__m256d s0 = _mm256_setzero_pd(), s1 = s0, w0 = s0, w1 = s0, bad = s0, a, b;
	const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
	int64_t i = 0;
	for (; i + 8 <= n; i += 8) {
		columns4(_mm_loadu_ps(l + i), _mm256_loadu_pd(p + i), all, &a, &b, &s0, &w0, &bad);
		_mm256_storeu_pd(e + i, a);
		_mm256_storeu_pd(inv + i, b);
		columns4(_mm_loadu_ps(l + i + 4), _mm256_loadu_pd(p + i + 4), all, &a, &b, &s1, &w1, &bad);
		_mm256_storeu_pd(e + i + 4, a);
		_mm256_storeu_pd(inv + i + 4, b);
	}
	for (; i < n; i += 4) {
		int64_t m = n - i < 4 ? n - i : 4;
		float lt[4] = {0};
		double pt[4] = {0}, et[4], it[4];
		memcpy(lt, l + i, m * sizeof *lt);
		memcpy(pt, p + i, m * sizeof *pt);
		__m256d mask = _mm256_castsi256_pd(
		    _mm256_cmpgt_epi64(_mm256_set1_epi64x(m), _mm256_setr_epi64x(0, 1, 2, 3)));
		columns4(_mm_loadu_ps(lt), _mm256_loadu_pd(pt), mask, &a, &b, &s0, &w0, &bad);
		_mm256_storeu_pd(et, a);
		_mm256_storeu_pd(it, b);
		memcpy(e + i, et, m * sizeof *et);
		memcpy(inv + i, it, m * sizeof *it);
	}
	sw[0] = hsum(_mm256_add_pd(s0, s1));
	sw[1] = hsum(_mm256_add_pd(w0, w1));
	return _mm256_movemask_pd(bad) == 0;
}

int cpsimd_columns(const float *l, const double *p, double *e, double *inv, int64_t n, double *sw) {
	return columns(l, p, e, inv, n, sw);
}

TGT static void update(double *p, const double *e, const double *inv, int64_t n, double c, double s, double w,
                       double top, int64_t *lo, double *total) {
	const __m256d vc = _mm256_set1_pd(c), vs = _mm256_set1_pd(s), vw = _mm256_set1_pd(w),
	              vtop = _mm256_set1_pd(top), zero = _mm256_setzero_pd(), four = _mm256_set1_pd(4);
	__m256d tot = zero, low = _mm256_set1_pd(INFINITY), at = zero, idx = _mm256_setr_pd(0, 1, 2, 3);
	int64_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m256d pv = _mm256_loadu_pd(p + i);
		// p + c·(e·w − (s·p)·inv), then max(0, min(top, ·)): minpd and
		// maxpd return their second operand when one is NaN, so NaN stays.
		__m256d d = _mm256_fmsub_pd(_mm256_loadu_pd(e + i), vw, _mm256_mul_pd(_mm256_mul_pd(vs, pv), _mm256_loadu_pd(inv + i)));
		__m256d v = _mm256_max_pd(zero, _mm256_min_pd(vtop, _mm256_fmadd_pd(vc, d, pv)));
		_mm256_storeu_pd(p + i, v);
		tot = _mm256_add_pd(tot, v);
		__m256d lt = _mm256_cmp_pd(v, low, _CMP_LT_OQ); // strict: each lane keeps its first minimum
		low = _mm256_blendv_pd(low, v, lt);
		at = _mm256_blendv_pd(at, idx, lt);
		idx = _mm256_add_pd(idx, four);
	}
	double lows[4], ats[4];
	_mm256_storeu_pd(lows, low);
	_mm256_storeu_pd(ats, at);
	double best = INFINITY, sum = hsum(tot);
	int64_t where = 0;
	for (int j = 0; j < 4; j++) {
		if (lows[j] < best || (lows[j] == best && (int64_t)ats[j] < where)) {
			best = lows[j];
			where = (int64_t)ats[j];
		}
	}
	for (; i < n; i++) {
		double v = fma(c, fma(e[i], w, -(s * p[i]) * inv[i]), p[i]);
		v = isnan(v) ? v : fmax(0, fmin(top, v));
		p[i] = v;
		sum += v;
		if (v < best) {
			best = v;
			where = i;
		}
	}
	*lo = where;
	*total = sum;
}

void cpsimd_update(double *p, const double *e, const double *inv, int64_t n, double c, double s, double w,
                   double top, int64_t *lo, double *total) {
	update(p, e, inv, n, c, s, w, top, lo, total);
}

// x·log x for normal positive x (other lanes: garbage, masked by the caller):
// x = m·2^k with m in [√½, √2), log m = 2·atanh(u) with u = (m−1)/(m+1),
// |u| ≤ 0.1716, by its series to u^19 (truncation below 1e-17 relative).
static inline TGT __m256d xlogx(__m256d x) {
	const __m256d one = _mm256_set1_pd(1.0);
	__m256i bits = _mm256_castpd_si256(x);
	__m256d m = _mm256_or_pd(_mm256_and_pd(x, _mm256_castsi256_pd(_mm256_set1_epi64x(0x000fffffffffffffLL))), one);
	__m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(M_SQRT2), _CMP_GT_OQ);
	m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
	// The biased exponent (0 … 2046) as a double: its bits under 2^52's.
	__m256d k = _mm256_sub_pd(
	    _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x4330000000000000LL))),
	    _mm256_set1_pd(0x1p52 + 1023));
	k = _mm256_add_pd(k, _mm256_and_pd(big, one));
	__m256d u = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
	__m256d u2 = _mm256_mul_pd(u, u);
	__m256d q = _mm256_set1_pd(2.0 / 19);
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 17));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 15));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 13));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 11));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 9));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 7));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 5));
	q = _mm256_fmadd_pd(q, u2, _mm256_set1_pd(2.0 / 3));
	__m256d logm = _mm256_fmadd_pd(_mm256_mul_pd(u, u2), q, _mm256_add_pd(u, u));
	__m256d lg = _mm256_fmadd_pd(k, _mm256_set1_pd(LN2_LO), logm);
	lg = _mm256_fmadd_pd(k, _mm256_set1_pd(LN2_HI), lg);
	return _mm256_mul_pd(x, lg);
}

TGT static double entropy(const double *p, int64_t n) {
	// Entries below the smallest normal double add less than 2e-305 each
	// (x·log x → 0); they are left out, as are zeros, negatives and NaN.
	const __m256d tiny = _mm256_set1_pd(DBL_MIN);
	__m256d h0 = _mm256_setzero_pd(), h1 = h0;
	int64_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256d x0 = _mm256_loadu_pd(p + i), x1 = _mm256_loadu_pd(p + i + 4);
		h0 = _mm256_add_pd(h0, _mm256_and_pd(_mm256_cmp_pd(x0, tiny, _CMP_GE_OQ), xlogx(x0)));
		h1 = _mm256_add_pd(h1, _mm256_and_pd(_mm256_cmp_pd(x1, tiny, _CMP_GE_OQ), xlogx(x1)));
	}
	double h = -hsum(_mm256_add_pd(h0, h1));
	for (; i < n; i++) {
		if (p[i] > 0) {
			h -= p[i] * log(p[i]);
		}
	}
	return h;
}

double cpsimd_entropy(const double *p, int64_t n) { return entropy(p, n); }
