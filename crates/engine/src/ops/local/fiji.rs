//! Fiji's Auto Local Threshold 1.11.0, bit for bit (in progress).
