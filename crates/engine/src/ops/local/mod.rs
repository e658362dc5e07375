//! Local (adaptive) threshold methods: each pixel is compared with a threshold computed from
//! its neighbourhood.
//!
//! * [`fiji`]: Fiji's Auto Local Threshold 1.11.0 (Bernsen, Contrast, Mean, Median, MidGrey,
//!   Niblack, Otsu, Phansalkar, Sauvola) on ImageJ's circular neighbourhoods.

pub mod fiji;
