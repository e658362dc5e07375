//! Which level of hand-written SIMD kernels this CPU runs: one detection shared by the ops
//! with explicit x86 kernels (gray conversion, the window sums of the local methods and of
//! adaptive mean), so their dispatch and their tests see the same levels.

/// The widest level of hand-written kernels the CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simd {
    /// Portable Rust (auto-vectorised by the compiler, `multiversion` where it applies).
    Scalar,
    /// AVX2.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512F and AVX-512BW.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    /// The widest level this CPU runs.
    pub(crate) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if avx512() {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Scalar
    }

    /// Every level this CPU runs, for the tests.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Simd> {
        let mut v = vec![Simd::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(Simd::Avx2);
            }
            if avx512() {
                v.push(Simd::Avx512);
            }
        }
        v
    }
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
}
