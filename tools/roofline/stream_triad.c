/* stream_triad.c — an independent check of KVScope's bandwidth roof: the STREAM triad a[i] = b[i] + s·c[i]
 * in plain C with OpenMP, written for this check (not KVScope code, not copied from STREAM). Reports the
 * best of N passes, counting 3 x 8 bytes per element as STREAM does (no write-allocate traffic).
 * Build: cc -O3 -march=native -fopenmp stream_triad.c -o stream_triad
 * Run:   OMP_NUM_THREADS=2 ./stream_triad [MiB per array, default 512] [passes, default 10] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    const size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    const int passes = argc > 2 ? atoi(argv[2]) : 10;
    const size_t n = mib * 1024 * 1024 / sizeof(double);
    double* a = malloc(n * sizeof(double));
    double* b = malloc(n * sizeof(double));
    double* c = malloc(n * sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "stream_triad: cannot allocate 3 x %zu MiB\n", mib);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    const double s = 3.0;
    double best = 1e30;
    for (int p = 0; p < passes; ++p) {
        const double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; ++i)
            a[i] = b[i] + s * c[i];
        const double t = omp_get_wtime() - t0;
        if (p > 0 && t < best) best = t;
    }
    double check = 0;
    for (size_t i = 0; i < n; i += 4096)
        check += a[i];
    printf("triad %.1f GB/s (%d threads, 3 x %zu MiB, best of %d; check %.0f)\n", 3.0 * 8.0 * n / best / 1e9,
           omp_get_max_threads(), mib, passes - 1, check);
    free(a);
    free(b);
    free(c);
    return 0;
}
