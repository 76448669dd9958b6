// The CP step's arithmetic and the entropy over K classes in AVX2 and FMA;
// the Go side is cpsimd.go, the specification sampler.Kernel.
#include <stdint.h>

int cpsimd_supported(void);
int cpsimd_columns(const float *l, const double *p, double *e, double *inv, int64_t n, double *sw);
void cpsimd_update(double *p, const double *e, const double *inv, int64_t n, double c, double s, double w,
                   double top, int64_t *lo, double *total);
double cpsimd_entropy(const double *p, int64_t n);
