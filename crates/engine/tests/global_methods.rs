//! ImageJ 1.53t `AutoThresholder` and Fiji Auto_Threshold 1.18.0 levels, bit for bit.
//!
//! `tests/data/methods/levels.json` is vendored from the golden-methods pack by
//! `scripts/vendor_methods_golden.py` (per input: the 256-bin histogram ImageJ's methods saw,
//! the 16-bit image's own histogram where Fiji levels need it, ImageJ's level / raw return /
//! threshold ranges and Fiji's level of every method). A second test runs over the whole pack
//! (`../../../shared/golden-methods` from this crate) when it is present, masks included.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use serde_json::Value;
use tessera_engine::ops::auto::{
    AutoError, AutoMethod, Level16, Like, imagej_16bit_ranges, imagej_reduce_16bit, level,
    raw_level,
};

/// A 16-bit level, computed once per (histogram, method, semantics) in this test binary.
///
/// Fiji's methods run on the full 16-bit histogram, O(levels²) with a logarithm inside for
/// the entropy methods, as the Java is: the same inputs appear in both tests (and as level
/// and mask cases of the pack), so each distinct computation is shared, and [`prefetch`]
/// spreads them over the cores first.
fn level_16bit(m: AutoMethod, h: &[u64], like: Like) -> Result<Level16, AutoError> {
    type Key = (AutoMethod, Like, Vec<u64>);
    type Slot = Arc<OnceLock<Result<Level16, AutoError>>>;
    static CACHE: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    let slot = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry((m, like, h.to_vec()))
        .or_default()
        .clone();
    slot.get_or_init(|| tessera_engine::ops::auto::level_16bit(m, h, like))
        .clone()
}

/// Computes these 16-bit levels in parallel, into the cache.
fn prefetch(jobs: Vec<(AutoMethod, Like, Vec<u64>)>) {
    jobs.into_par_iter().for_each(|(m, like, h)| {
        let _ = level_16bit(m, &h, like);
    });
}

fn vendored_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/methods/levels.json")
}

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden-methods")
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn hist16(e: &Value) -> Option<Vec<u64>> {
    let dv = e.get("hist16_dv")?;
    let n = u64s(&e["hist16_n"]);
    let mut h = vec![0u64; 65536];
    let mut v = 0usize;
    for (d, c) in u64s(dv).into_iter().zip(n) {
        v += d as usize;
        h[v] = c;
    }
    Some(h)
}

/// Per method: (cases checked, cases equal); and the differences.
#[derive(Default)]
struct Tally {
    per: BTreeMap<String, (u32, u32)>,
    diffs: Vec<String>,
}

impl Tally {
    fn check<T: PartialEq + std::fmt::Debug>(&mut self, key: &str, case: &str, got: T, want: T) {
        let e = self.per.entry(key.to_string()).or_default();
        e.0 += 1;
        if got == want {
            e.1 += 1;
        } else {
            self.diffs
                .push(format!("{key} {case}: got {got:?}, oracle {want:?}"));
        }
    }

    fn finish(self, what: &str) {
        println!("{what}:");
        for (k, (n, ok)) in &self.per {
            println!("  {k:<24} {ok}/{n}");
        }
        assert!(!self.per.is_empty(), "{what}: nothing was checked");
        assert!(
            self.diffs.is_empty(),
            "{what}: {} differences:\n{}",
            self.diffs.len(),
            self.diffs.join("\n")
        );
    }
}

/// The Fiji level as this crate reports it, in the pack's terms (the plugin's number).
fn fiji_number(r: Result<i64, AutoError>) -> Result<i64, AutoError> {
    r
}

#[test]
fn vendored_levels_match_imagej_and_fiji() {
    let path = vendored_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "vendored oracle data {} is missing ({e}): run scripts/vendor_methods_golden.py",
            path.display()
        )
    });
    let root: Value = serde_json::from_str(&text).unwrap();
    let inputs = root["inputs"].as_object().unwrap();
    assert_eq!(inputs.len(), 56, "the pack has 56 ImageJ inputs");
    let mut jobs = Vec::new();
    for e in inputs.values() {
        if let Some(h16) = hist16(e) {
            for mname in e["fiji"].as_object().unwrap().keys() {
                jobs.push((mname.parse().unwrap(), Like::Fiji, h16.clone()));
            }
        }
    }
    prefetch(jobs);
    let mut t = Tally::default();
    let mut n_imagej = 0;
    let mut n_fiji = 0;
    for (name, e) in inputs {
        let h = u64s(&e["hist"]);
        assert_eq!(h.len(), 256);
        let bits = e["bitdepth"].as_u64().unwrap();
        let h16 = hist16(e);
        for (mname, x) in e["imagej"].as_object().unwrap() {
            let m: AutoMethod = mname.parse().unwrap();
            let (want_level, want_raw) = (x[0].as_i64().unwrap(), x[1].as_i64().unwrap());
            let light = (x[2][0].as_u64().unwrap(), x[2][1].as_u64().unwrap());
            let dark = (x[3][0].as_u64().unwrap(), x[3][1].as_u64().unwrap());
            let key = format!("ImageJ {mname}");
            t.check(&key, name, raw_level(m, &h, Like::ImageJ), Ok(want_raw));
            t.check(
                &key,
                name,
                level(m, &h, Like::ImageJ).map(i64::from),
                Ok(want_level),
            );
            n_imagej += 1;
            if bits == 8 {
                let l = want_level as u64;
                t.check(
                    &key,
                    &format!("{name} ranges"),
                    (light, dark),
                    ((0, l), ((l + 1).min(255), 255)),
                );
            } else {
                let (mn, mx) = (
                    e["min"].as_u64().unwrap() as u16,
                    e["max"].as_u64().unwrap() as u16,
                );
                let (gl, gd) = imagej_16bit_ranges(want_level as u32, mn, mx);
                let g = |r: (u16, u16)| (r.0 as u64, r.1 as u64);
                t.check(
                    &key,
                    &format!("{name} ranges"),
                    (g(gl), g(gd)),
                    (light, dark),
                );
                if let Some(h16) = &h16 {
                    let (h8, a, b) = imagej_reduce_16bit(h16).unwrap();
                    t.check(
                        "ImageJ 16-bit reduction",
                        name,
                        (h8.to_vec(), a, b),
                        (h.clone(), mn, mx),
                    );
                    let l = level_16bit(m, h16, Like::ImageJ).unwrap();
                    t.check(
                        &key,
                        &format!("{name} level_16bit"),
                        (l.level, l.raw, l.light.map(g), l.dark.map(g)),
                        (want_level, want_raw, Some(light), Some(dark)),
                    );
                }
            }
        }
        for (mname, x) in e["fiji"].as_object().unwrap() {
            let m: AutoMethod = mname.parse().unwrap();
            let want = x.as_i64().unwrap();
            let key = format!("Fiji {mname}");
            n_fiji += 1;
            if bits == 8 {
                t.check(
                    &key,
                    name,
                    fiji_number(raw_level(m, &h, Like::Fiji)),
                    Ok(want),
                );
            } else {
                let h16 = h16
                    .as_ref()
                    .expect("16-bit Fiji cases carry the 16-bit histogram");
                t.check(
                    &key,
                    name,
                    level_16bit(m, h16, Like::Fiji).map(|l| l.level),
                    Ok(want),
                );
            }
        }
    }
    assert_eq!(n_imagej, 56 * 17);
    assert!(n_fiji >= 850, "{n_fiji} Fiji levels");
    t.finish("vendored ImageJ/Fiji levels");
}

/// Samples of a gray PNG of the pack (8- or 16-bit, stored values as they are).
fn load_gray(path: &Path) -> (u32, Vec<u16>) {
    let img =
        tessera_engine::image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match img {
        tessera_engine::image::DynamicImage::ImageLuma8(b) => {
            (8, b.into_raw().into_iter().map(u16::from).collect())
        }
        tessera_engine::image::DynamicImage::ImageLuma16(b) => (16, b.into_raw()),
        other => panic!("{}: unexpected {:?}", path.display(), other.color()),
    }
}

#[test]
fn whole_pack_when_present() {
    let pack = pack_dir();
    let manifest = pack.join("manifest.json");
    if !manifest.exists() {
        println!(
            "golden-methods pack not at {}: only the vendored data was checked",
            pack.display()
        );
        return;
    }
    let root: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let mut images: BTreeMap<String, (u32, Vec<u16>, Vec<u64>)> = BTreeMap::new();
    let mut load = |input: &str| -> (u32, Vec<u16>, Vec<u64>) {
        images
            .entry(input.to_string())
            .or_insert_with(|| {
                let (bits, px) = load_gray(&pack.join(input));
                let mut h = vec![0u64; if bits == 8 { 256 } else { 65536 }];
                for &p in &px {
                    h[p as usize] += 1;
                }
                (bits, px, h)
            })
            .clone()
    };
    let mut jobs = Vec::new();
    for c in root["cases"].as_array().unwrap() {
        let part = c["part"].as_str().unwrap();
        if part.starts_with("fiji_auto_threshold") {
            let (bits, _, h) = load(c["input"].as_str().unwrap());
            if bits == 16 {
                jobs.push((
                    c["method"].as_str().unwrap().parse().unwrap(),
                    Like::Fiji,
                    h,
                ));
            }
        }
    }
    prefetch(jobs);
    let mut t = Tally::default();
    let mut imagej_levels: BTreeMap<String, i64> = BTreeMap::new();
    for c in root["cases"].as_array().unwrap() {
        let part = c["part"].as_str().unwrap();
        let id = c["id"].as_str().unwrap();
        let (is_ij, is_fiji) = (
            part == "imagej_global",
            part.starts_with("fiji_auto_threshold"),
        );
        if !is_ij && !is_fiji {
            continue;
        }
        let m: AutoMethod = c["method"].as_str().unwrap().parse().unwrap();
        let input = c["input"].as_str().unwrap();
        let (bits, px, h) = load(input);
        let kind = c["kind"].as_str().unwrap();
        if is_ij && kind == "level" {
            let x = &c["expected"];
            let key = format!("ImageJ {m}");
            let want = x["level"].as_i64().unwrap();
            imagej_levels.insert(id.to_string(), want);
            let rng = |v: &Value| (v[0].as_f64().unwrap() as u16, v[1].as_f64().unwrap() as u16);
            let (wl, wd) = (
                rng(&x["light_background_range"]),
                rng(&x["dark_background_range"]),
            );
            if bits == 8 {
                t.check(
                    &key,
                    id,
                    raw_level(m, &h, Like::ImageJ),
                    Ok(x["raw_method_return"].as_i64().unwrap()),
                );
                t.check(
                    &key,
                    id,
                    level(m, &h, Like::ImageJ).map(i64::from),
                    Ok(want),
                );
            } else {
                let l = level_16bit(m, &h, Like::ImageJ).unwrap();
                t.check(
                    &key,
                    id,
                    (l.level, l.raw, l.light, l.dark),
                    (
                        want,
                        x["raw_method_return"].as_i64().unwrap(),
                        Some(wl),
                        Some(wd),
                    ),
                );
            }
        } else if is_ij && kind == "mask" {
            // The level case precedes its masks in the manifest.
            let lvl = imagej_levels[id.rsplit_once('/').unwrap().0];
            let dark = c["params"]["dark_background"].as_bool().unwrap();
            let (lo, hi) = if bits == 8 {
                if dark {
                    ((lvl + 1).min(255) as u16, 255)
                } else {
                    (0, lvl as u16)
                }
            } else {
                let (a, b) = imagej_16bit_ranges(
                    lvl as u32,
                    px.iter().copied().min().unwrap(),
                    px.iter().copied().max().unwrap(),
                );
                if dark { b } else { a }
            };
            let tr = &c["threshold_range"];
            let key = format!("ImageJ {m} mask");
            t.check(
                &key,
                id,
                (lo, hi),
                (
                    tr[0].as_f64().unwrap() as u16,
                    tr[1].as_f64().unwrap() as u16,
                ),
            );
            let (_, exp, _) = load(c["expected"].as_str().unwrap());
            let got: Vec<u16> = px
                .iter()
                .map(|&v| if lo <= v && v <= hi { 255 } else { 0 })
                .collect();
            t.check(&key, id, got == exp, true);
        } else if is_fiji {
            let want = if kind == "level" {
                c["expected"]["level"].as_i64().unwrap()
            } else {
                c["level"].as_i64().unwrap()
            };
            let key = format!("Fiji {m}{}", if kind == "mask" { " mask" } else { "" });
            let got = if bits == 8 {
                raw_level(m, &h, Like::Fiji)
            } else {
                level_16bit(m, &h, Like::Fiji).map(|l| l.level)
            };
            t.check(&key, id, got.clone(), Ok(want));
            if kind == "mask" {
                let (_, exp, _) = load(c["expected"].as_str().unwrap());
                let g = got.unwrap_or(want);
                let mask: Vec<u16> = px
                    .iter()
                    .map(|&v| if i64::from(v) > g { 255 } else { 0 })
                    .collect();
                t.check(&key, id, mask == exp, true);
            }
        }
    }
    t.finish("golden-methods pack");
}
