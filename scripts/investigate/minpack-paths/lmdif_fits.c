// Fits the VQEG logistics with cminpack's lmdif using curve_fit's settings (see README.md).
// stdin, per fit: "m model starts", then m x values, m y values, and `starts` rows of parameters.
// stdout, per start: "start info sse b1 .. bp", or "start info fail" when both tolerances fail.
#include <cminpack-1/cminpack.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  int m, params;
  double *x, *y;
} Data;

static int residuals(void *p, int m, int n, const double *b, double *fvec, int iflag) {
  (void)n, (void)iflag;
  const Data *d = p;
  for (int i = 0; i < m; i++) {
    double xi = d->x[i];
    double f = d->params == 5 ? b[0] * (0.5 - 1.0 / (1.0 + exp(b[1] * (xi - b[2])))) + b[3] * xi + b[4]
                              : (b[0] - b[1]) / (1.0 + exp(-(xi - b[2]) / b[3])) + b[1];
    fvec[i] = f - d->y[i];  // curve_fit's sign: model minus data
  }
  return 0;
}

int main(void) {
  int m, params, starts;
  while (scanf("%d %d %d", &m, &params, &starts) == 3) {
    Data d = {m, params, malloc(m * sizeof(double)), malloc(m * sizeof(double))};
    double *fvec = malloc(m * sizeof(double)), *fjac = malloc(m * 5 * sizeof(double)), *wa4 = malloc(m * sizeof(double));
    for (int i = 0; i < m; i++) scanf("%lf", &d.x[i]);
    for (int i = 0; i < m; i++) scanf("%lf", &d.y[i]);
    for (int s = 0; s < starts; s++) {
      double start[5], b[5], diag[5], qtf[5], wa1[5], wa2[5], wa3[5];
      int ipvt[5], nfev, info = 0;
      for (int j = 0; j < params; j++) scanf("%lf", &start[j]);
      const double tolerances[2] = {1e-14, 1e-10};
      for (int t = 0; t < 2; t++) {
        for (int j = 0; j < params; j++) b[j] = start[j];
        info = lmdif(residuals, &d, m, params, b, fvec, tolerances[t], tolerances[t], tolerances[t], 20000, DBL_EPSILON, diag, 1, 100., 0, &nfev,
                     fjac, m, ipvt, qtf, wa1, wa2, wa3, wa4);
        if (info >= 1 && info <= 4) break;  // curve_fit's success codes
      }
      if (info < 1 || info > 4) {
        printf("%d %d fail\n", s, info);
        continue;
      }
      residuals(&d, m, params, b, fvec, 1);
      double sse = 0;
      for (int i = 0; i < m; i++) sse += fvec[i] * fvec[i];
      printf("%d %d %.17g", s, info, sse);
      for (int j = 0; j < params; j++) printf(" %.17g", b[j]);
      printf("\n");
    }
    free(d.x), free(d.y), free(fvec), free(fjac), free(wa4);
  }
  return 0;
}
