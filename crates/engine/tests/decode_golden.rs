//! Decoding against OpenCV: small files in every input format and in the layouts that decode
//! differently (16 bits, alpha, palettes, odd PNM maxvals, 16-bit BMP, JPEG-in-TIFF, float
//! TIFF), read with `read_image` and turned gray, must give exactly what
//! `cv2.imread(path, IMREAD_COLOR)` + `cvtColor(BGR2GRAY)` gives (OpenCV 5.1). Cases marked
//! "documented" are where tessera knowingly differs (the note and source.rs say how); their
//! expected file holds that documented result, also made with OpenCV. Made by
//! `scripts/make_decode_golden.py` into `tests/data/decode/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tessera_engine::io::{DecodeLimits, read_image};

#[derive(Deserialize)]
struct Manifest {
    opencv: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    file: String,
    expected: Option<String>,
    status: String,
    #[serde(default)]
    error: Option<String>,
    note: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/decode")
}

fn manifest() -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn every_format_decodes_to_opencvs_gray_pixels() {
    let m = manifest();
    assert!(m.opencv.starts_with("5."), "made with OpenCV {}", m.opencv);
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in m.cases.iter().filter(|c| c.expected.is_some()) {
        assert!(matches!(case.status.as_str(), "exact" | "documented"));
        let path = dir().join(&case.file);
        let src = match read_image(&path, DecodeLimits::default()) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: {e}", case.file));
                continue;
            }
        };
        let got = tessera_engine::gray(&src.into_dynamic());
        let want = image::open(dir().join(case.expected.as_ref().unwrap()))
            .unwrap()
            .into_luma8();
        checked += 1;
        if got.dimensions() != want.dimensions() {
            failures.push(format!(
                "{}: {:?}, OpenCV {:?}",
                case.file,
                got.dimensions(),
                want.dimensions()
            ));
            continue;
        }
        let diffs: Vec<i32> = got
            .as_raw()
            .iter()
            .zip(want.as_raw())
            .map(|(&a, &b)| a as i32 - b as i32)
            .filter(|&d| d != 0)
            .collect();
        if !diffs.is_empty() {
            let worst = diffs.iter().map(|d| d.abs()).max().unwrap();
            failures.push(format!(
                "{}: {} pixels differ, by up to {worst} ({})",
                case.file,
                diffs.len(),
                case.note
            ));
        }
    }
    assert!(checked >= 40, "only {checked} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corrupt_files_have_their_real_reason() {
    let m = manifest();
    let mut seen = 0;
    for case in m.cases.iter().filter(|c| c.expected.is_none()) {
        let want = case
            .error
            .as_deref()
            .expect("an error case names its error");
        let e = match read_image(&dir().join(&case.file), DecodeLimits::default()) {
            Ok(s) => panic!("{}: decoded ({}x{})", case.file, s.width(), s.height()),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(want), "{}: {e}", case.file);
        assert!(!e.contains("too large"), "{}: {e}", case.file);
        assert!(
            !e.contains('\n') && !e.contains('{'),
            "not one plain line: {e}"
        );
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn a_garbage_png_has_a_one_line_reason() {
    // A PNG signature followed by bytes that are no chunk: the `png` crate's message holds a
    // debug dump of the chunk type; the reason must be one plain line naming the chunk.
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(768));
    let e = tessera_engine::io::decode_bytes("garbage.png", &bytes, DecodeLimits::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("corrupt") && e.contains("PNG"), "{e}");
    assert!(e.contains("chunk of type 04 05 06 07"), "{e}");
    assert!(!e.contains('{') && !e.contains('\n'), "{e}");
}
