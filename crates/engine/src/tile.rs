//! Cutting an image into tiles, and handing each tile task its own disjoint part of the output.
//!
//! A tile is a rectangle of the output. Ops with a neighbourhood (adaptive threshold) read a
//! halo of `block / 2` pixels around it straight from the whole source image, with the
//! image border replicated, so every tile computes exactly what a whole-image pass would:
//! the output does not depend on the tile size or the worker count.

use serde::{Deserialize, Serialize};

/// A rectangle of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    /// Left column.
    pub x: usize,
    /// Top row.
    pub y: usize,
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
}

impl Rect {
    /// Width × height.
    pub fn area(&self) -> usize {
        self.w * self.h
    }
}

/// A borrowed gray image (8-bit by default, `GrayView<'_, u16>` for 16-bit), rows packed
/// (`data.len() == width * height`).
#[derive(Debug)]
pub(crate) struct GrayView<'a, T = u8> {
    pub data: &'a [T],
    pub width: usize,
    pub height: usize,
}

impl<T> Clone for GrayView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for GrayView<'_, T> {}

impl<'a, T> GrayView<'a, T> {
    pub fn new(data: &'a [T], width: usize, height: usize) -> Self {
        assert_eq!(data.len(), width * height, "gray view size");
        GrayView {
            data,
            width,
            height,
        }
    }

    #[inline]
    pub fn row(&self, y: usize) -> &'a [T] {
        &self.data[y * self.width..(y + 1) * self.width]
    }
}

/// How big the tiles are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TileSize {
    /// Chosen by the engine: full-width strips, enough of them to balance the workers, tall
    /// enough that the halo rows stay a small fraction of each strip.
    #[default]
    Auto,
    /// Square tiles of this edge length in pixels (clipped at the image's right and bottom).
    Square(u32),
}

impl std::fmt::Display for TileSize {
    /// `auto` or the edge in pixels, as the CLI takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TileSize::Auto => f.write_str("auto"),
            TileSize::Square(n) => write!(f, "{n}"),
        }
    }
}

/// A tile size that is neither `auto` nor a positive number of pixels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tile must be \"auto\" or a positive number of pixels, got {0:?}")]
pub struct ParseTileError(String);

impl std::str::FromStr for TileSize {
    type Err = ParseTileError;
    /// Parses `auto` (any case) or a positive edge length in pixels.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(TileSize::Auto);
        }
        match s.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(TileSize::Square(n)),
            _ => Err(ParseTileError(s.to_string())),
        }
    }
}

impl TileSize {
    /// Resolves the size for an image, a worker count and a halo into a tile width and height.
    pub fn resolve(self, width: usize, height: usize, workers: usize, halo: usize) -> TileShape {
        let width = width.max(1);
        let height = height.max(1);
        match self {
            TileSize::Square(edge) => {
                let e = (edge as usize).max(1);
                TileShape {
                    w: e.min(width),
                    h: e.min(height),
                }
            }
            TileSize::Auto => {
                // About 4 strips per worker for load balance, at least 8 strips for progress,
                // each at least 4 halos and 16 rows tall, and at most ~1 M pixels.
                let strips = (4 * workers.max(1)).max(8);
                let mut h = height.div_ceil(strips);
                h = h.max(4 * halo).max(16);
                h = h.min((1 << 20) / width).max(8.min(height));
                TileShape {
                    w: width,
                    h: h.min(height),
                }
            }
        }
    }
}

/// A resolved tile size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileShape {
    /// Tile width in pixels.
    pub w: usize,
    /// Tile height in pixels.
    pub h: usize,
}

impl TileShape {
    /// How many tiles of this shape cover a `width`×`height` image.
    pub fn count(self, width: usize, height: usize) -> usize {
        width.div_ceil(self.w.max(1)) * height.div_ceil(self.h.max(1))
    }
}

impl std::fmt::Display for TileShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.w, self.h)
    }
}

/// The tiles covering a `width × height` image, row-major.
pub(crate) fn tiles(width: usize, height: usize, shape: TileShape) -> Vec<Rect> {
    let mut v = Vec::new();
    let (tw, th) = (shape.w.max(1), shape.h.max(1));
    let mut y = 0;
    while y < height {
        let h = th.min(height - y);
        let mut x = 0;
        while x < width {
            let w = tw.min(width - x);
            v.push(Rect { x, y, w, h });
            x += w;
        }
        y += h;
    }
    v
}

/// Most tiles one stage of a job may have: each tile has a record (timeline, progress), so
/// a 1-pixel tile on a 24-megapixel image would take gigabytes of records. A job over the
/// cap fails with a usage error that names the smallest edge that fits.
pub const MAX_TILES: usize = 1 << 18;

/// The smallest square tile edge that cuts a `width`×`height` image into at most
/// [`MAX_TILES`] tiles.
pub(crate) fn min_edge(width: usize, height: usize) -> usize {
    let mut e = ((width * height) as f64 / MAX_TILES as f64)
        .sqrt()
        .floor()
        .max(1.0) as usize;
    while (TileShape { w: e, h: e }).count(width, height) > MAX_TILES {
        e += 1;
    }
    e
}

/// A tile's part of the output: one mutable slice of `rect.w` pixels per row.
pub(crate) struct TileMut<'a, T = u8> {
    /// The tile's index in [`tiles`] order.
    pub index: usize,
    /// The tile.
    pub rect: Rect,
    /// One slice of `rect.w` pixels per row of the tile.
    pub rows: Vec<&'a mut [T]>,
}

/// Splits an output buffer (`width * height` pixels) into the disjoint parts of each tile, in
/// the order of [`tiles`]. Safe code: each row is split at the tile column boundaries.
pub(crate) fn split_output<'a, T>(
    out: &'a mut [T],
    width: usize,
    height: usize,
    shape: TileShape,
) -> Vec<TileMut<'a, T>> {
    assert_eq!(out.len(), width * height);
    let rects = tiles(width, height, shape);
    let mut parts: Vec<TileMut<'a, T>> = rects
        .iter()
        .enumerate()
        .map(|(index, &rect)| TileMut {
            index,
            rect,
            rows: Vec::with_capacity(rect.h),
        })
        .collect();
    if width == 0 {
        return parts;
    }
    let tiles_per_row = width.div_ceil(shape.w.max(1));
    for (y, row) in out.chunks_exact_mut(width).enumerate() {
        let band = y / shape.h.max(1);
        let mut rest = row;
        for t in 0..tiles_per_row {
            let part = &mut parts[band * tiles_per_row + t];
            let (head, tail) = rest.split_at_mut(part.rect.w);
            part.rows.push(head);
            rest = tail;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sizes_round_trip_through_their_names() {
        for t in [
            TileSize::Auto,
            TileSize::Square(1),
            TileSize::Square(64),
            TileSize::Square(u32::MAX),
        ] {
            assert_eq!(t.to_string().parse::<TileSize>(), Ok(t));
        }
        assert_eq!("AUTO".parse::<TileSize>(), Ok(TileSize::Auto));
        for bad in ["0", "-3", "12px", "", "big"] {
            let e = bad.parse::<TileSize>().unwrap_err().to_string();
            assert!(e.starts_with("tile must be"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_tile_count_is_capped_with_the_smallest_edge_that_fits() {
        let e = min_edge(6000, 4000);
        assert!(TileShape { w: e, h: e }.count(6000, 4000) <= MAX_TILES);
        assert!(TileShape { w: e - 1, h: e - 1 }.count(6000, 4000) > MAX_TILES);
        assert_eq!(min_edge(10, 10), 1);
    }

    #[test]
    fn tiles_cover_the_image_exactly_once() {
        for (w, h) in [(1, 1), (7, 3), (100, 37), (64, 64)] {
            for (tw, th) in [(1, 1), (3, 5), (16, 16), (1000, 1000)] {
                let shape = TileShape { w: tw, h: th };
                let mut seen = vec![0u8; w * h];
                for r in tiles(w, h, shape) {
                    for y in r.y..r.y + r.h {
                        for x in r.x..r.x + r.w {
                            seen[y * w + x] += 1;
                        }
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "{w}x{h} tiles {tw}x{th}");
            }
        }
    }

    #[test]
    fn split_output_gives_each_tile_its_own_pixels() {
        let (w, h) = (10, 7);
        let mut buf = vec![0u8; w * h];
        let shape = TileShape { w: 4, h: 3 };
        for mut part in split_output(&mut buf, w, h, shape) {
            assert_eq!(part.rows.len(), part.rect.h);
            let tag = part.index as u8 + 1;
            for row in part.rows.iter_mut() {
                assert_eq!(row.len(), part.rect.w);
                row.fill(tag);
            }
        }
        for (i, r) in tiles(w, h, shape).iter().enumerate() {
            for y in r.y..r.y + r.h {
                for x in r.x..r.x + r.w {
                    assert_eq!(buf[y * w + x], i as u8 + 1);
                }
            }
        }
    }

    #[test]
    fn auto_tiles_are_full_width_strips() {
        let s = TileSize::Auto.resolve(3840, 2160, 2, 5);
        assert_eq!(s.w, 3840);
        assert!(s.h >= 20 && s.h <= 2160 / 8, "{s}");
        let s = TileSize::Auto.resolve(5, 3, 16, 50);
        assert_eq!((s.w, s.h), (5, 3));
        let s = TileSize::Square(256).resolve(100, 1000, 2, 0);
        assert_eq!((s.w, s.h), (100, 256));
    }
}
