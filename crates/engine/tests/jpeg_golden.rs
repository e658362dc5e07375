//! JPEG against OpenCV: files OpenCV wrote in the layouts cameras and tools use, decoded as
//! `cv2.imread` decodes them, and gray results encoded into the very bytes `cv2.imwrite`
//! writes. Made by `scripts/make_jpeg_golden.py` (OpenCV 5.0) into `tests/data/jpeg/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tessera_engine::Control;
use tessera_engine::io::{DecodeLimits, read_image, write_gray_atomic};
use tessera_engine::job::{self, JobConfig};
use tessera_engine::ops::{OpKind, OpSettings};
use tessera_engine::source::Pixels;
use tessera_engine::tile::TileSize;

#[derive(Deserialize)]
struct Manifest {
    decode: Vec<DecodeCase>,
    encode: Vec<EncodeCase>,
}

#[derive(Deserialize)]
struct DecodeCase {
    input: String,
    decoded: String,
    gray: String,
}

#[derive(Deserialize)]
struct EncodeCase {
    pixels: String,
    jpeg: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jpeg")
}

fn manifest() -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn decoded_pixels_and_gray_are_opencvs() {
    let cases = manifest().decode;
    assert!(cases.len() >= 8);
    let gray_op = OpSettings {
        op: OpKind::from_name("gray").unwrap(),
        ..OpSettings::default()
    }
    .to_op()
    .unwrap();
    for case in &cases {
        let src = read_image(&dir().join(&case.input), DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.input));
        // imread's BGR, stored as an RGB PNG.
        let want = image::open(dir().join(&case.decoded)).unwrap().into_rgb8();
        assert_eq!(
            (src.width() as u32, src.height() as u32),
            want.dimensions(),
            "{}",
            case.input
        );
        let differing = match &src.pixels {
            Pixels::Rgb(got) => got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .filter(|(a, b)| a != b)
                .count(),
            // A gray JPEG stays gray; OpenCV's BGR repeats it in all three channels.
            Pixels::Gray(got) => got
                .as_raw()
                .iter()
                .zip(want.as_raw().chunks(3))
                .filter(|(g, p)| p.iter().any(|c| c != *g))
                .count(),
            other => panic!("{}: decoded as {other:?}", case.input),
        };
        assert_eq!(
            differing, 0,
            "{}: decoded values differ from imread's",
            case.input
        );
        let want_gray = image::open(dir().join(&case.gray)).unwrap().into_luma8();
        for cfg in [
            JobConfig {
                workers: 1,
                tile: TileSize::Auto,
            },
            JobConfig {
                workers: 3,
                tile: TileSize::Square(16),
            },
        ] {
            let out = job::run(&src, &gray_op, &cfg, &Control::new()).unwrap();
            assert_eq!(
                out.image.as_gray8().unwrap().as_raw(),
                want_gray.as_raw(),
                "{} gray",
                case.input
            );
        }
    }
}

#[test]
fn encoded_jpegs_are_byte_identical_to_imwrite() {
    let cases = manifest().encode;
    assert!(cases.len() >= 3);
    let tmp = tempfile::tempdir().unwrap();
    for case in &cases {
        let gray = image::open(dir().join(&case.pixels)).unwrap().into_luma8();
        let out = tmp.path().join(&case.jpeg);
        write_gray_atomic(&gray, &out).unwrap();
        let got = std::fs::read(&out).unwrap();
        let want = std::fs::read(dir().join(&case.jpeg)).unwrap();
        assert_eq!(got.len(), want.len(), "{}: size", case.jpeg);
        assert!(
            got == want,
            "{}: bytes differ from cv2.imwrite's",
            case.jpeg
        );
    }
}
