//! Mutation test: real small files of every input format (PNG, JPEG baseline and progressive,
//! TIFF, BMP, WebP, GIF, PNM), their bytes flipped, overwritten, inserted or cut, mostly in
//! the first 100 bytes (the headers: sizes, depths, offsets), are decoded with small limits
//! and, when they decode, turned gray and Otsu-thresholded. Nothing may panic out of the
//! engine, hang, or allocate past a bound (a counting allocator measures every case), and
//! every failure is a one-line reason. 2000 cases in all, a fixed seed.
//!
//! Inputs a decoder panicked on (caught at the decode boundary and turned into a reason) are
//! kept in `tests/data/mutation/` and checked on every run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tessera_engine::io::{DecodeLimits, decode_bytes};
use tessera_engine::{ThresholdType, gray, otsu};

/// Counts the bytes the process holds, and their peak since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const LIMITS: DecodeLimits = DecodeLimits {
    max_dimension: 4096,
    max_pixels: 4096 * 4096,
    max_memory: 64 << 20,
    max_scans: 100,
};
/// What one case may hold at its peak, over what it held before: the memory limit (which
/// covers the whole job: decode, gray, result) and as much again of slack for the decoders'
/// own tables and the test's copies.
const PEAK_BOUND: usize = (64 << 20) + (64 << 20);
/// A case slower than this counts as a hang.
const CASE_TIME: Duration = Duration::from_secs(10);
const CASES: u32 = 2000;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The seed files: every format, in the layouts that take different decoder paths.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let names = [
        "decode/gray8.png",
        "decode/rgba16.png",
        "decode/palette8_trns.png",
        "decode/gray8.tif",
        "decode/rgb8_lzw.tif",
        "decode/rgb16.tif",
        "decode/rgba8_unassoc.tif",
        "decode/rgb8_planar.tif",
        "decode/rgb8_tiled.tif",
        "decode/palette8.tif",
        "decode/rgb8_jpeg.tif",
        "decode/ycbcr_jpeg.tif",
        "decode/float32.tif",
        "decode/rgb24.bmp",
        "decode/rgba32.bmp",
        "decode/rgb555.bmp",
        "decode/palette8.bmp",
        "decode/gray8.pgm",
        "decode/rgb16.ppm",
        "decode/maxval100_ascii.pgm",
        "decode/bilevel.pbm",
        "decode/rgb_lossless.webp",
        "decode/palette.gif",
        "jpeg/q95_420.jpg",
        "jpeg/q75_progressive.jpg",
        "jpeg/q95_restarts.jpg",
    ];
    names
        .iter()
        .map(|n| {
            let bytes = std::fs::read(data().join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
            (n.to_string(), bytes)
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit.
    Flip(usize, u8),
    /// Overwrite bytes (an extreme value: 0x00, 0xFF, 0x7F, 0x80, or any).
    Overwrite(usize, Vec<u8>),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Cut the file short.
    Truncate(usize),
}

/// A position: three times in four within the first 100 bytes (the headers).
fn position() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0usize..100, 1 => any::<usize>()]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        Just(0x00u8),
        Just(0xFF),
        Just(0x7F),
        Just(0x80),
        Just(0x01),
        any::<u8>()
    ];
    prop_oneof![
        3 => (position(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, b)),
        4 => (position(), value, 1usize..5)
            .prop_map(|(p, v, n)| Mutation::Overwrite(p, vec![v; n])),
        1 => (position(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, v)| Mutation::Overwrite(p, v)),
        1 => (position(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, v)| Mutation::Insert(p, v)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(p, b) => {
                let p = p % len;
                if let Some(x) = bytes.get_mut(p) {
                    *x ^= 1 << b;
                }
            }
            Mutation::Overwrite(p, v) => {
                let p = p % len;
                for (i, &x) in v.iter().enumerate() {
                    if let Some(y) = bytes.get_mut(p + i) {
                        *y = x;
                    }
                }
            }
            Mutation::Insert(p, v) => {
                let p = p % (bytes.len() + 1);
                bytes.splice(p..p, v.iter().copied());
            }
            Mutation::Truncate(n) => bytes.truncate(n % len),
        }
    }
    bytes
}

/// Decodes and processes one input; checks the time, the memory and the reason.
fn check(name: &str, bytes: &[u8]) -> Result<(), String> {
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t = Instant::now();
    let result = decode_bytes(name, bytes, LIMITS);
    match result {
        Ok(src) => {
            if src.width().max(src.height()) > LIMITS.max_dimension as usize {
                return Err(format!("{name}: {}x{} decoded", src.width(), src.height()));
            }
            let g = gray(&src.into_dynamic());
            otsu(&g, 255.0, ThresholdType::Binary).map_err(|e| format!("{name}: otsu: {e}"))?;
        }
        Err(e) => {
            let e = e.to_string();
            if e.contains('\n') || e.contains("{ ") {
                return Err(format!("{name}: reason not one plain line: {e}"));
            }
        }
    }
    let took = t.elapsed();
    if took > CASE_TIME {
        return Err(format!("{name}: took {took:?}"));
    }
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    if peak > PEAK_BOUND {
        return Err(format!("{name}: peak allocation {} MiB", peak >> 20));
    }
    Ok(())
}

/// Panics a decoder raised (caught by the engine); counted by a panic hook.
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn mutated_files_never_panic_hang_or_allocate_unboundedly() {
    let seeds = seeds();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        default_hook(info);
    }));
    // MUTATION_CASES=n runs a longer search (by hand, to hunt for new failures).
    let cases = std::env::var("MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    let decoded = AtomicUsize::new(0);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..4));
    let panicked: std::cell::RefCell<Vec<(String, Vec<u8>)>> = Default::default();
    let started = Instant::now();
    let result = runner.run(&strategy, |(i, muts)| {
        let (name, bytes) = &seeds[i];
        let input = apply(bytes.clone(), &muts);
        let before = PANICS.load(Ordering::Relaxed);
        let r = check(name, &input);
        if r.is_ok() && decode_bytes(name, &input, LIMITS).is_ok() {
            decoded.fetch_add(1, Ordering::Relaxed);
        }
        if PANICS.load(Ordering::Relaxed) != before {
            panicked.borrow_mut().push((name.clone(), input.clone()));
        }
        r.map_err(TestCaseError::fail)
    });
    let _ = std::panic::take_hook();
    let panicked = panicked.into_inner();
    eprintln!(
        "{cases} mutated files in {:?}, {} decoded; decoders panicked (caught) on {}",
        started.elapsed(),
        decoded.load(Ordering::Relaxed),
        panicked.len()
    );
    if !panicked.is_empty() {
        let dir = std::env::temp_dir().join("tessera-mutation-panics");
        std::fs::create_dir_all(&dir).unwrap();
        for (k, (name, bytes)) in panicked.iter().enumerate() {
            let file = name.replace('/', "_");
            std::fs::write(dir.join(format!("{k}-{file}")), bytes).unwrap();
        }
        eprintln!(
            "kept in {} (add them to tests/data/mutation/)",
            dir.display()
        );
    }
    result.unwrap();
}

#[test]
fn inputs_that_made_a_decoder_panic_have_a_reason() {
    let dir = data().join("mutation");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        check(&name, &bytes).unwrap();
        // These made a decoder panic: the engine gives a reason instead.
        let e = decode_bytes(&name, &bytes, LIMITS);
        if let Err(e) = e {
            assert!(e.to_string().contains("corrupt") || e.to_string().contains("truncated"));
        }
    }
}
