//! Timing sweeps over worker counts and tile sizes. Being written: see issue 5.
