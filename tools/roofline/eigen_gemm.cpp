// eigen_gemm.cpp — an independent check of KVScope's peak FLOP/s: one Eigen float GEMM C = A·B, n x n,
// multithreaded by Eigen's own OpenMP path (KVScope's engine splits its products over its own threads).
// Build: c++ -O3 -march=native -fopenmp -I/usr/include/eigen3 eigen_gemm.cpp -o eigen_gemm
// Run:   OMP_NUM_THREADS=2 ./eigen_gemm [n, default 1536] [passes, default 6]
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 1536;
    const int passes = argc > 2 ? std::atoi(argv[2]) : 6;
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
    double best = 1e30;
    for (int p = 0; p < passes; ++p) {
        const auto t0 = std::chrono::steady_clock::now();
        c.noalias() = a * b;
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (p > 0 && t < best) best = t;
    }
    std::printf("gemm %.1f GFLOP/s (%d threads, %d x %d float, best of %d; check %.3f)\n",
                2.0 * n * n * double(n) / best / 1e9, Eigen::nbThreads(), n, n, passes - 1, double(c(0, 0)));
    return 0;
}
