//! Viridis, matplotlib's perceptually uniform sequential colour map (9 stops, interpolated),
//! shared by the PNG charts and the window's heat maps.

/// The 9 stops, dark purple to yellow.
pub const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];

/// The viridis colour of `t` in 0..=1 (clamped).
pub fn viridis(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    std::array::from_fn(|k| (a[k] as f64 + (b[k] as f64 - a[k] as f64) * f).round() as u8)
}
