//! A contact sheet of gray images with captions: what `tessera montage` writes.
//!
//! [`Layout`] places the cells (a title band, then rows of `columns` cells, each an image
//! scaled by [`fit`] above a two-line caption); [`render`] draws them into one 8-bit gray
//! image. The text uses the font egui ships (Ubuntu Light), drawn with ab_glyph (plotters'
//! rasteriser), so like the PNG charts ([`plots`](crate::plots)) it needs the `png-charts` feature; without it
//! [`render`] refuses with a clear reason (checked by [`available`] before any work).

use image::GrayImage;
use tessera_engine::EngineError;
use tessera_engine::source::Plane;

/// Background of the sheet: light gray, so that the white of a result shows its edge.
pub const BACKGROUND: u8 = 232;
/// The one-pixel frame around each image.
pub const FRAME: u8 = 150;
/// The box of a cell that has no image (its reason is written inside).
pub const NO_IMAGE: u8 = 205;

/// Where everything goes on the sheet, in pixels. Deterministic from its inputs (no font
/// measurement), so a test can find a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The slot width: the long side of the scaled images.
    pub cell: u32,
    /// Cells per row.
    pub columns: u32,
    /// Rows.
    pub rows: u32,
    /// Every image scaled to this size ([`fit`]).
    pub image: (u32, u32),
    /// Caption font size in pixels (the title's is 3 more).
    pub font: u32,
    /// Margin around the sheet and gap between cells.
    pub margin: u32,
    /// Height of the title band (two lines).
    pub title: u32,
    /// Height of a caption (two lines).
    pub caption: u32,
}

impl Layout {
    /// The layout of `cells` cells of a `width`x`height` image, scaled to `cell` pixels on
    /// its long side, `columns` to a row.
    pub fn new(width: u32, height: u32, cell: u32, columns: u32, cells: u32) -> Layout {
        let columns = columns.clamp(1, cells.max(1));
        let long = width.max(height).max(1) as f64;
        let scale = |v: u32| ((v as f64 * cell as f64 / long).round() as u32).clamp(1, cell);
        let font = (cell / 16).clamp(11, 17);
        let line = line_height;
        Layout {
            cell,
            columns,
            rows: cells.div_ceil(columns).max(1),
            image: (scale(width), scale(height)),
            font,
            margin: 12,
            title: 2 * line(font + 3) + 6,
            caption: 2 * line(font) + 6,
        }
    }

    /// The size of the whole sheet.
    pub fn size(&self) -> (u32, u32) {
        let w = 2 * self.margin + self.columns * self.cell + (self.columns - 1) * self.margin;
        let h = 2 * self.margin
            + self.title
            + self.rows * (self.image.1 + self.caption)
            + (self.rows - 1) * self.margin;
        (w, h)
    }

    /// The top-left corner of cell `i`'s image (cells fill rows left to right; an image
    /// narrower than the slot is centred in it).
    pub fn image_at(&self, i: u32) -> (u32, u32) {
        let (col, row) = (i % self.columns, i / self.columns);
        let x = self.margin + col * (self.cell + self.margin) + (self.cell - self.image.0) / 2;
        let y = self.margin + self.title + row * (self.image.1 + self.caption + self.margin);
        (x, y)
    }

    /// The top-left corner of cell `i`'s caption, and its width (the slot's).
    pub fn caption_at(&self, i: u32) -> (u32, u32, u32) {
        let (col, row) = (i % self.columns, i / self.columns);
        let x = self.margin + col * (self.cell + self.margin);
        let y = self.margin
            + self.title
            + row * (self.image.1 + self.caption + self.margin)
            + self.image.1
            + 4;
        (x, y, self.cell)
    }
}

/// A result as the sheet shows it: 8-bit as it is; 16-bit mapped from its own
/// `min..=max` to `0..=255` (the window's automatic display range).
pub fn shown(img: &Plane) -> std::borrow::Cow<'_, GrayImage> {
    match img.as_gray8() {
        Some(g) => std::borrow::Cow::Borrowed(g),
        None => {
            let (lo, hi) = img.min_max();
            std::borrow::Cow::Owned(img.to_display8(lo, hi))
        }
    }
}

/// `img` scaled to `w`x`h`: each pixel is the rounded mean of the source pixels whose
/// indices fall in its footprint (`x·W/w ..= (x+1)·W/w`, at least one), which is an area
/// average when shrinking and nearest-neighbour when enlarging.
pub fn fit(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (sw, sh) = (img.width() as u64, img.height() as u64);
    let span = |i: u64, n: u64, s: u64| {
        let a = i * s / n;
        (a, ((i + 1) * s / n).max(a + 1).min(s))
    };
    let xs: Vec<(u64, u64)> = (0..w as u64).map(|x| span(x, w as u64, sw)).collect();
    let raw = img.as_raw();
    let mut out = Vec::with_capacity(w as usize * h as usize);
    let mut sums = vec![0u64; w as usize];
    for y in 0..h as u64 {
        let (y0, y1) = span(y, h as u64, sh);
        sums.iter_mut().for_each(|s| *s = 0);
        for sy in y0..y1 {
            let row = &raw[(sy * sw) as usize..((sy + 1) * sw) as usize];
            for (s, &(x0, x1)) in sums.iter_mut().zip(&xs) {
                *s += row[x0 as usize..x1 as usize]
                    .iter()
                    .map(|&v| v as u64)
                    .sum::<u64>();
            }
        }
        for (s, &(x0, x1)) in sums.iter().zip(&xs) {
            let n = (x1 - x0) * (y1 - y0);
            out.push(((s + n / 2) / n) as u8);
        }
    }
    GrayImage::from_raw(w, h, out).expect("w*h pixels")
}

/// One cell of a sheet.
#[derive(Debug, Clone)]
pub struct SheetCell {
    /// The image, already [`fit`] to [`Layout::image`], or why there is none (written in
    /// its box).
    pub image: Result<GrayImage, String>,
    /// The caption, wrapped onto at most two lines (then cut with an ellipsis).
    pub caption: String,
}

/// A whole sheet: its layout, a two-line title and the cells in order.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Where things go.
    pub layout: Layout,
    /// The title's two lines (each cut with an ellipsis when too wide).
    pub title: [String; 2],
    /// The cells.
    pub cells: Vec<SheetCell>,
}

/// Whether this build can draw sheets (the `png-charts` feature); the reason when not.
pub fn available() -> Result<(), EngineError> {
    if cfg!(feature = "png-charts") {
        Ok(())
    } else {
        Err(EngineError::InvalidParam(
            "montages need tessera built with the `png-charts` feature (on by default): their \
             captions are drawn with the same text renderer as the charts"
                .into(),
        ))
    }
}

/// The images, frames and boxes of the sheet, without text, as a gray buffer.
fn paint(sheet: &Sheet) -> (u32, u32, Vec<u8>) {
    let l = &sheet.layout;
    let (w, h) = l.size();
    let mut buf = vec![BACKGROUND; (w * h) as usize];
    let mut put = |x: u32, y: u32, v: u8| {
        if x < w && y < h {
            buf[(y * w + x) as usize] = v;
        }
    };
    for (i, cell) in sheet.cells.iter().enumerate() {
        let (x0, y0) = l.image_at(i as u32);
        let (iw, ih) = l.image;
        // The frame, one pixel outside the image.
        for x in x0.saturating_sub(1)..=x0 + iw {
            put(x, y0.saturating_sub(1), FRAME);
            put(x, y0 + ih, FRAME);
        }
        for y in y0.saturating_sub(1)..=y0 + ih {
            put(x0.saturating_sub(1), y, FRAME);
            put(x0 + iw, y, FRAME);
        }
        match &cell.image {
            Ok(img) => {
                for (x, y, p) in img.enumerate_pixels() {
                    if x < iw && y < ih {
                        put(x0 + x, y0 + y, p.0[0]);
                    }
                }
            }
            Err(_) => {
                for y in 0..ih {
                    for x in 0..iw {
                        put(x0 + x, y0 + y, NO_IMAGE);
                    }
                }
            }
        }
    }
    (w, h, buf)
}

/// Text drawn with ab_glyph in egui's font, straight into a gray buffer (each glyph on the
/// line's baseline; plotters' own text places glyphs by their bounding boxes, which lifts
/// some letters by a pixel or two at caption sizes).
#[cfg(feature = "png-charts")]
struct Pen<'a> {
    font: ab_glyph::FontRef<'static>,
    buf: &'a mut [u8],
    width: u32,
    height: u32,
}

#[cfg(feature = "png-charts")]
impl Pen<'_> {
    /// The advance width of `s` at `px` pixels.
    fn measure(font: &ab_glyph::FontRef<'static>, px: u32, s: &str) -> u32 {
        use ab_glyph::{Font, ScaleFont};
        let f = font.as_scaled(px as f32);
        let mut w = 0.0;
        let mut prev = None;
        for c in s.chars() {
            let id = f.glyph_id(c);
            if let Some(p) = prev {
                w += f.kern(p, id);
            }
            w += f.h_advance(id);
            prev = Some(id);
        }
        w.ceil() as u32
    }

    /// Draws `s` in black, `px` pixels high, its line's top at `(x, y)`.
    fn text(&mut self, s: &str, px: u32, x: u32, y: u32) {
        use ab_glyph::{Font, ScaleFont, point};
        let f = self.font.as_scaled(px as f32);
        let baseline = y as f32 + f.ascent();
        let mut pen_x = x as f32;
        let mut prev = None;
        for c in s.chars() {
            let id = f.glyph_id(c);
            if let Some(p) = prev {
                pen_x += f.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(px as f32, point(pen_x, baseline));
            pen_x += f.h_advance(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let (w, h) = (self.width as i64, self.height as i64);
            let buf = &mut *self.buf;
            outline.draw(|gx, gy, cover| {
                let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if (0..w).contains(&px) && (0..h).contains(&py) {
                    let v = &mut buf[(py * w + px) as usize];
                    *v = (*v as f32 * (1.0 - cover.clamp(0.0, 1.0))).round() as u8;
                }
            });
        }
    }
}

/// Draws the sheet into one 8-bit gray image.
#[cfg(feature = "png-charts")]
pub fn render(sheet: &Sheet) -> Result<GrayImage, EngineError> {
    let font = ab_glyph::FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|e| EngineError::Internal(format!("the caption font: {e}")))?;
    let l = &sheet.layout;
    let (w, h, mut buf) = paint(sheet);
    let mut pen = Pen {
        font: font.clone(),
        buf: &mut buf,
        width: w,
        height: h,
    };
    let width_of = |px: u32| {
        let font = font.clone();
        move |s: &str| Pen::measure(&font, px, s)
    };

    let title = l.font + 3;
    for (k, line) in sheet.title.iter().enumerate() {
        let line = cut(line, w - 2 * l.margin, width_of(title));
        pen.text(
            &line,
            title,
            l.margin,
            l.margin + k as u32 * line_height(title),
        );
    }
    let small = l.font - 1;
    for (i, cell) in sheet.cells.iter().enumerate() {
        let (x, y, cw) = l.caption_at(i as u32);
        for (k, line) in wrap(&cell.caption, cw, 2, width_of(l.font))
            .iter()
            .enumerate()
        {
            pen.text(line, l.font, x, y + k as u32 * line_height(l.font));
        }
        if let Err(reason) = &cell.image {
            let (ix, iy) = l.image_at(i as u32);
            let pad = 6;
            let inner = l.image.0.saturating_sub(2 * pad);
            let lines = (l.image.1.saturating_sub(2 * pad) / line_height(small)).max(1);
            for (k, line) in wrap(reason, inner, lines as usize, width_of(small))
                .iter()
                .enumerate()
            {
                let ty = iy + pad + k as u32 * line_height(small);
                pen.text(line, small, ix + pad, ty);
            }
        }
    }
    GrayImage::from_raw(w, h, buf)
        .ok_or_else(|| EngineError::Internal("drawing the montage: buffer size".into()))
}

/// The height of a line of text `px` pixels high (what [`Layout`] reserves).
fn line_height(px: u32) -> u32 {
    (px * 13).div_ceil(10) + 2
}

/// Refuses: this build has no text drawing (see [`available`]).
#[cfg(not(feature = "png-charts"))]
pub fn render(sheet: &Sheet) -> Result<GrayImage, EngineError> {
    let _ = paint(sheet);
    available().map(|()| unreachable!())
}

#[cfg_attr(not(feature = "png-charts"), allow(dead_code))]
/// `s` cut to fit `width` (by `measure`), ending with an ellipsis when cut.
fn cut(s: &str, width: u32, measure: impl Fn(&str) -> u32) -> String {
    if measure(s) <= width {
        return s.to_string();
    }
    let mut chars: Vec<char> = s.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let t: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if measure(&t) <= width {
            return t;
        }
    }
    "…".into()
}

#[cfg_attr(not(feature = "png-charts"), allow(dead_code))]
/// `s` wrapped at spaces onto at most `lines` lines of `width` (by `measure`); the last line
/// is cut with an ellipsis when the text does not fit.
fn wrap(s: &str, width: u32, lines: usize, measure: impl Fn(&str) -> u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut words = s.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if out.len() == lines {
            break;
        }
        let mut line = word.to_string();
        while let Some(next) = words.peek() {
            let candidate = format!("{line} {next}");
            if measure(&candidate) > width {
                break;
            }
            line = candidate;
            words.next();
        }
        if out.len() + 1 == lines && words.peek().is_some() {
            let rest: Vec<&str> = words.by_ref().collect();
            line = format!("{line} {}", rest.join(" "));
        }
        out.push(cut(&line, width, &measure));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_is_an_area_mean_when_shrinking_and_nearest_when_enlarging() {
        let img = GrayImage::from_fn(4, 2, |x, y| image::Luma([(x * 10 + y * 100) as u8]));
        let half = fit(&img, 2, 1);
        // (0 + 10 + 100 + 110) / 4 = 55, (20 + 30 + 120 + 130) / 4 = 75.
        assert_eq!(half.as_raw(), &[55, 75]);
        let twice = fit(&img, 8, 4);
        assert_eq!(twice.get_pixel(3, 3).0[0], img.get_pixel(1, 1).0[0]);
        assert_eq!(fit(&img, 4, 2), img);
    }

    #[test]
    fn layout_places_cells_inside_the_sheet_without_overlap() {
        let l = Layout::new(300, 200, 128, 3, 7);
        assert_eq!(l.image, (128, 85));
        assert_eq!(l.rows, 3);
        let (w, h) = l.size();
        for i in 0..7 {
            let (x, y) = l.image_at(i);
            assert!(x + l.image.0 + l.margin <= w && y + l.image.1 <= h);
            let (cx, cy, cw) = l.caption_at(i);
            assert!(cy > y + l.image.1 && cx + cw <= w && cy + l.caption <= h + 4);
        }
        assert!(l.image_at(3).1 > l.caption_at(0).1 + l.caption - 6);
    }

    #[test]
    fn wrap_keeps_to_the_width_and_the_line_count() {
        let m = |s: &str| s.chars().count() as u32;
        assert_eq!(wrap("Huang (ImageJ) 118", 40, 2, m), ["Huang (ImageJ) 118"]);
        assert_eq!(
            wrap("Sauvola (scikit-image) b11 k0.2 r127.5", 24, 2, m),
            ["Sauvola (scikit-image)", "b11 k0.2 r127.5"]
        );
        let w = wrap("a b c d e f g h i j k l m n o p", 5, 2, m);
        assert_eq!(w.len(), 2);
        assert!(w[1].ends_with('…') && m(&w[1]) <= 5, "{w:?}");
    }
}
