//! The image viewer: zoom, pan, before/after (split or side by side) and the pixel under the
//! cursor.
//!
//! Every image is shown from two kinds of textures, so any size displays correctly whatever
//! the GPU's maximum texture side:
//! * a preview, box-downscaled on a background thread to at most `preview_side` pixels per
//!   side (2048 or the GPU's limit if smaller), with mipmaps, drawn whenever the image is;
//! * full-resolution tiles of `tile_edge` pixels, made only for the part on screen when the
//!   zoom asks for more detail than the preview holds, a few per frame (the preview stays
//!   visible under tiles not made yet, so there is never a black area).

use std::collections::HashMap;
use std::sync::Arc;

use egui::{
    Align2, Color32, ColorImage, CursorIcon, FontId, Painter, Pos2, Rect, Sense, Stroke,
    TextureFilter, TextureHandle, TextureOptions, Ui, Vec2, pos2, vec2,
};
use serde::{Deserialize, Serialize};

use tessera_engine::ops::gray::gray_of;
use tessera_engine::source::{Plane, SourceImage};

/// The largest preview side, also capped by the GPU's maximum texture side.
pub const PREVIEW_SIDE: usize = 2048;
/// Edge of a full-resolution tile texture, also capped by the GPU's maximum texture side.
pub const TILE_EDGE: usize = 1024;
/// New full-resolution tiles uploaded per frame (the rest follow in the next frames).
pub const TILES_PER_FRAME: usize = 2;
/// Tiles kept per layer before the ones off screen are dropped.
const TILE_CACHE: usize = 48;

/// The preview side for a GPU's maximum texture side.
pub fn preview_side(max_texture_side: usize) -> usize {
    PREVIEW_SIDE.min(max_texture_side.max(64))
}

/// A pixel's real samples (1, 3 or 4) and their bits (8 or 16).
pub type PixelValue = (Vec<u16>, u32);

/// The 16-bit pixels behind a layer (read out as they are).
#[derive(Clone)]
pub enum Real {
    /// A 16-bit input.
    Source(Arc<SourceImage>),
    /// A 16-bit result.
    Plane(Arc<Plane>),
}

/// The full-resolution pixels behind a layer.
#[derive(Clone)]
pub enum FullRes {
    /// An 8-bit input, shown as it is.
    Source(Arc<SourceImage>),
    /// A result, shown as it is when 8-bit (a 16-bit one is shown through [`FullRes::Wide`]).
    Plane(Arc<Plane>),
    /// 16-bit pixels, shown through `shown`: an 8-bit copy mapped from the display range
    /// `range` to 0..=255 (made in the background); the readout gives the real values.
    Wide {
        real: Real,
        shown: Arc<SourceImage>,
        range: (u16, u16),
    },
}

impl FullRes {
    fn dims(&self) -> (usize, usize) {
        match self {
            FullRes::Source(s) => (s.width(), s.height()),
            FullRes::Plane(g) => (g.width() as usize, g.height() as usize),
            FullRes::Wide { shown, .. } => (shown.width(), shown.height()),
        }
    }

    fn raw(&self) -> &[u8] {
        match self {
            FullRes::Source(s) => s.raw(),
            FullRes::Plane(g) => g.as_gray8().map_or(&[], |g| g.as_raw()),
            FullRes::Wide { shown, .. } => shown.raw(),
        }
    }

    fn channels(&self) -> usize {
        match self {
            FullRes::Source(s) => s.channels(),
            FullRes::Plane(_) => 1,
            FullRes::Wide { shown, .. } => shown.channels(),
        }
    }

    /// The display samples of the pixel at `(x, y)` (1, 3 or 4 values, 8-bit: for 16-bit
    /// pixels, as the display range shows them).
    pub fn pixel(&self, x: usize, y: usize) -> Option<&[u8]> {
        let (w, h) = self.dims();
        if x >= w || y >= h {
            return None;
        }
        let c = self.channels();
        let i = (y * w + x) * c;
        self.raw().get(i..i + c)
    }

    /// The real samples of the pixel at `(x, y)` and their bits (8 or 16).
    pub fn value(&self, x: usize, y: usize) -> Option<PixelValue> {
        let FullRes::Wide { real, .. } = self else {
            let p = self.pixel(x, y)?;
            return Some((p.iter().map(|&v| u16::from(v)).collect(), 8));
        };
        let (w, h) = self.dims();
        if x >= w || y >= h {
            return None;
        }
        match real {
            Real::Source(s) => {
                let c = s.channels();
                let i = (y * w + x) * c;
                Some((s.raw16().get(i..i + c)?.to_vec(), 16))
            }
            Real::Plane(p) => Some((vec![p.get(x as u32, y as u32)?], p.bit_depth())),
        }
    }

    /// The display range of 16-bit pixels (`None` for 8-bit ones).
    pub fn range(&self) -> Option<(u16, u16)> {
        match self {
            FullRes::Wide { range, .. } => Some(*range),
            _ => None,
        }
    }
}

/// A mask texel: opaque white where the result is foreground (non-zero; zero with
/// `invert`), transparent elsewhere.
pub fn mask_pixel(v: u8, invert: bool) -> Color32 {
    if (v > 0) != invert {
        Color32::WHITE
    } else {
        Color32::TRANSPARENT
    }
}

/// A gray preview (as `preview_of_gray` makes it) turned into a mask's preview. A preview
/// pixel averages several result pixels: it is foreground when any of them is.
pub fn mask_preview(preview: &ColorImage, invert: bool) -> ColorImage {
    ColorImage::new(
        preview.size,
        preview
            .pixels
            .iter()
            .map(|p| mask_pixel(p.r(), invert))
            .collect(),
    )
}

/// How far from the split divider (in points) a press grabs it.
pub const DIVIDER_GRAB: f32 = 10.0;

/// Describes a pixel's real samples (as [`FullRes::value`] gives them): `128` for gray,
/// `R 10 G 20 B 30 (gray 18)` for colour, with the gray conversion of their depth.
pub fn describe_pixel((px, bits): PixelValue) -> String {
    match px.as_slice() {
        [v] => format!("{v}"),
        [r, g, b, ..] if bits == 16 => {
            let mut gray = [0u16];
            tessera_engine::ops::wide::rgb16_row_to_gray(&[*r, *g, *b], 3, &mut gray);
            format!("R {r} G {g} B {b} (gray {})", gray[0])
        }
        [r, g, b, ..] => format!(
            "R {r} G {g} B {b} (gray {})",
            gray_of(*r as u8, *g as u8, *b as u8)
        ),
        _ => String::new(),
    }
}

fn texture_options(mipmaps: bool) -> TextureOptions {
    TextureOptions {
        magnification: TextureFilter::Nearest,
        minification: TextureFilter::Linear,
        wrap_mode: egui::TextureWrapMode::ClampToEdge,
        mipmap_mode: mipmaps.then_some(TextureFilter::Linear),
    }
}

/// One displayable image (the original or the result).
pub struct Layer {
    name: String,
    pub full: FullRes,
    w: usize,
    h: usize,
    preview: TextureHandle,
    /// The preview's downscale factor (1: the preview is the full image).
    factor: usize,
    preview_size: [usize; 2],
    tiles: HashMap<(usize, usize), TextureHandle>,
    tile_edge: usize,
    /// A mask of a gray result: `Some(invert)` makes non-zero pixels (zero ones, inverted)
    /// opaque white and the others transparent.
    mask: Option<bool>,
}

impl Layer {
    /// Uploads `preview` (made by [`super::jobs::preview_of_source`] or `preview_of_gray`).
    pub fn new(
        ctx: &egui::Context,
        name: &str,
        full: FullRes,
        (preview, factor): (ColorImage, usize),
        max_texture_side: usize,
    ) -> Layer {
        let (w, h) = full.dims();
        let preview_size = preview.size;
        let factor = factor.max(1);
        let texture = ctx.load_texture(format!("{name}-preview"), preview, texture_options(true));
        Layer {
            name: name.to_owned(),
            full,
            w,
            h,
            preview: texture,
            factor,
            preview_size,
            tiles: HashMap::new(),
            tile_edge: TILE_EDGE.min(max_texture_side.max(64)),
            mask: None,
        }
    }

    /// A mask layer of a gray result (see [`mask_preview`] for its preview): white where the
    /// result is non-zero (zero, with `invert`), transparent elsewhere.
    pub fn new_mask(
        ctx: &egui::Context,
        name: &str,
        full: FullRes,
        preview: (ColorImage, usize),
        max_texture_side: usize,
        invert: bool,
    ) -> Layer {
        let mut l = Layer::new(ctx, name, full, preview, max_texture_side);
        l.mask = Some(invert);
        l
    }

    pub fn size(&self) -> (usize, usize) {
        (self.w, self.h)
    }

    /// How many full-resolution tiles are uploaded now.
    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    /// The preview's downscale factor.
    pub fn preview_factor(&self) -> usize {
        self.factor
    }

    fn make_tile(&self, ctx: &egui::Context, tx: usize, ty: usize) -> TextureHandle {
        let e = self.tile_edge;
        let (x0, y0) = (tx * e, ty * e);
        let (tw, th) = (e.min(self.w - x0), e.min(self.h - y0));
        let c = self.full.channels();
        let raw = self.full.raw();
        let mut pixels = Vec::with_capacity(tw * th);
        for y in y0..y0 + th {
            let row = &raw[(y * self.w + x0) * c..(y * self.w + x0 + tw) * c];
            if let Some(invert) = self.mask {
                pixels.extend(row.iter().map(|&v| mask_pixel(v, invert)));
            } else if c == 1 {
                pixels.extend(row.iter().map(|&v| Color32::from_gray(v)));
            } else {
                pixels.extend(
                    row.chunks_exact(c)
                        .map(|p| Color32::from_rgb(p[0], p[1], p[2])),
                );
            }
        }
        ctx.load_texture(
            format!("{}-tile-{tx}-{ty}", self.name),
            ColorImage::new([tw, th], pixels),
            texture_options(false),
        )
    }

    /// Paints the layer with its pixel (0, 0) at `origin` and `zoom` screen points per pixel.
    /// Uploads at most `budget` new tiles; returns whether tiles are still missing.
    pub fn paint(
        &mut self,
        ctx: &egui::Context,
        painter: &Painter,
        origin: Pos2,
        zoom: f32,
        budget: &mut usize,
    ) -> bool {
        self.paint_tinted(ctx, painter, origin, zoom, budget, Color32::WHITE)
    }

    /// [`Layer::paint`] with every texel multiplied by `tint` (premultiplied): a mask layer
    /// tinted with a colour at some opacity blends that colour over what is below.
    pub fn paint_tinted(
        &mut self,
        ctx: &egui::Context,
        painter: &Painter,
        origin: Pos2,
        zoom: f32,
        budget: &mut usize,
        tint: Color32,
    ) -> bool {
        let image_rect = Rect::from_min_size(origin, vec2(self.w as f32, self.h as f32) * zoom);
        let k = self.factor as f32;
        let uv = Rect::from_min_max(
            Pos2::ZERO,
            pos2(
                self.w as f32 / (self.preview_size[0] as f32 * k),
                self.h as f32 / (self.preview_size[1] as f32 * k),
            ),
        );
        painter.image(self.preview.id(), image_rect, uv, tint);
        let pixels_per_point = ctx.pixels_per_point();
        // Tiles only when the screen shows more detail than the preview holds.
        if self.factor == 1 || zoom * pixels_per_point <= 1.05 / k {
            return false;
        }
        let clip = painter.clip_rect().intersect(image_rect);
        if clip.width() <= 0.0 || clip.height() <= 0.0 {
            return false;
        }
        let to_img = |p: Pos2| (p - origin) / zoom;
        let (a, b) = (to_img(clip.min), to_img(clip.max));
        let e = self.tile_edge;
        let tx0 = (a.x.max(0.0) as usize / e).min((self.w - 1) / e);
        let ty0 = (a.y.max(0.0) as usize / e).min((self.h - 1) / e);
        let tx1 = ((b.x.ceil().max(1.0) as usize - 1) / e).min((self.w - 1) / e);
        let ty1 = ((b.y.ceil().max(1.0) as usize - 1) / e).min((self.h - 1) / e);
        let mut missing = false;
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                if !self.tiles.contains_key(&(tx, ty)) {
                    if *budget == 0 {
                        missing = true;
                        continue;
                    }
                    *budget -= 1;
                    let t = self.make_tile(ctx, tx, ty);
                    self.tiles.insert((tx, ty), t);
                }
                let t = &self.tiles[&(tx, ty)];
                let (x0, y0) = ((tx * e) as f32, (ty * e) as f32);
                let sz = t.size();
                let r = Rect::from_min_size(
                    origin + vec2(x0, y0) * zoom,
                    vec2(sz[0] as f32, sz[1] as f32) * zoom,
                );
                painter.image(
                    t.id(),
                    r,
                    Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                    tint,
                );
            }
        }
        if self.tiles.len() > TILE_CACHE {
            self.tiles
                .retain(|&(tx, ty), _| (tx0..=tx1).contains(&tx) && (ty0..=ty1).contains(&ty));
        }
        missing
    }
}

/// How the original and the result are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ViewMode {
    /// The result only.
    #[default]
    Result,
    /// The original only.
    Original,
    /// Original left of a draggable divider, result right of it.
    Split,
    /// Original and result beside each other, zoomed and panned together.
    SideBySide,
    /// The original with the result's foreground coloured over it (as Fiji's Threshold
    /// dialog shows it), in an [`OverlayStyle`] and opacity.
    Overlay,
    /// The result's errors against the ground truth: false positives red, false negatives
    /// blue, over the original dimmed (the result where there is no ground truth).
    Errors,
}

/// How [`ViewMode::Overlay`] colours the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum OverlayStyle {
    /// Foreground (the pixels the result sets) in red, as Fiji's "Red".
    #[default]
    Red,
    /// Foreground in green, background in blue, as Fiji's "Over/Under".
    OverUnder,
}

impl OverlayStyle {
    pub const ALL: [OverlayStyle; 2] = [OverlayStyle::Red, OverlayStyle::OverUnder];

    pub fn label(self) -> &'static str {
        match self {
            OverlayStyle::Red => "Red",
            OverlayStyle::OverUnder => "Over/under",
        }
    }

    /// The colours of the foreground and (if coloured) the background, opaque.
    pub fn colours(self) -> (Color32, Option<Color32>) {
        match self {
            OverlayStyle::Red => (Color32::from_rgb(255, 0, 0), None),
            OverlayStyle::OverUnder => (
                Color32::from_rgb(0, 220, 0),
                Some(Color32::from_rgb(0, 70, 255)),
            ),
        }
    }
}

/// What the overlay shows at one pixel: the original's colour, with the style's colour
/// blended over it at `opacity` where the result is foreground (non-zero; the background
/// too for over/under). The viewer paints exactly this blend (a white mask texture tinted
/// with the colour at that opacity, over the original).
pub fn overlay_colour(original: [u8; 3], result: u8, style: OverlayStyle, opacity: f32) -> Color32 {
    let (fg, bg) = style.colours();
    let over = if result > 0 { Some(fg) } else { bg };
    let a = opacity.clamp(0.0, 1.0);
    let mix = |o: u8, c: u8| (f32::from(o) * (1.0 - a) + f32::from(c) * a).round() as u8;
    match over {
        Some(c) => Color32::from_rgb(
            mix(original[0], c.r()),
            mix(original[1], c.g()),
            mix(original[2], c.b()),
        ),
        None => Color32::from_rgb(original[0], original[1], original[2]),
    }
}

/// The overlay's masks and how to paint them.
pub struct Overlay<'a> {
    /// White where the result is foreground, transparent elsewhere.
    pub mask: &'a mut Layer,
    /// The opposite.
    pub background: &'a mut Layer,
    pub style: OverlayStyle,
    pub opacity: f32,
}

impl ViewMode {
    pub const ALL: [ViewMode; 6] = [
        ViewMode::Result,
        ViewMode::Original,
        ViewMode::Split,
        ViewMode::SideBySide,
        ViewMode::Overlay,
        ViewMode::Errors,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ViewMode::Result => "Result",
            ViewMode::Original => "Original",
            ViewMode::Split => "Split",
            ViewMode::SideBySide => "Side by side",
            ViewMode::Overlay => "Overlay",
            ViewMode::Errors => "Errors",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            ViewMode::Result => "Show the processed image (key R; hold Space to see the original)",
            ViewMode::Original => "Show the image as loaded (key O)",
            ViewMode::Split => {
                "Original left, result right of a divider; drag the divider to compare (key S)"
            }
            ViewMode::SideBySide => {
                "Original and result side by side, zoomed and panned together (key D)"
            }
            ViewMode::Overlay => {
                "The original with the result's foreground coloured over it, as Fiji's \
                 Threshold dialog shows it; style and opacity beside (key V)"
            }
            ViewMode::Errors => {
                "The result against the ground truth: false positives red, false negatives \
                 blue, over the original (key E; load a ground truth in the controls)"
            }
        }
    }
}

/// Zoom and pan state of the viewer.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// The image point at the centre of the view.
    pub center: Vec2,
    /// Zoom follows the view's size so the whole image fits.
    pub fit: bool,
    dragging_split: bool,
    /// Where the viewer was drawn last frame (screen points).
    pub rect: Rect,
    /// The last image size seen (a new size resets to fit).
    last_size: (usize, usize),
    /// Where a Shift+drag that draws a region started (image pixels).
    roi_start: Option<Vec2>,
    /// The region being drawn, and the one drawn when the button was released (taken by
    /// the window).
    pub roi_drawing: Option<crate::ui::jobs::Roi>,
    pub roi_drawn: Option<crate::ui::jobs::Roi>,
}

impl Default for Viewer {
    fn default() -> Self {
        Viewer {
            zoom: 1.0,
            center: Vec2::ZERO,
            fit: true,
            dragging_split: false,
            rect: Rect::NOTHING,
            last_size: (0, 0),
            roi_start: None,
            roi_drawing: None,
            roi_drawn: None,
        }
    }
}

/// The hovered pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hover {
    pub x: usize,
    pub y: usize,
}

pub const MAX_ZOOM: f32 = 64.0;

impl Viewer {
    fn min_zoom(size: (usize, usize)) -> f32 {
        (16.0 / size.0.max(size.1).max(1) as f32).min(1.0)
    }

    /// Zooms by `factor` about the view's centre.
    pub fn zoom_by(&mut self, factor: f32, size: (usize, usize)) {
        self.fit = false;
        self.zoom = (self.zoom * factor).clamp(Self::min_zoom(size), MAX_ZOOM);
    }

    /// One image pixel per screen pixel, keeping the centre.
    pub fn one_to_one(&mut self, pixels_per_point: f32) {
        self.fit = false;
        self.zoom = 1.0 / pixels_per_point;
    }

    /// Draws the viewer in the rest of `ui`; returns the pixel under the cursor.
    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &mut self,
        ui: &mut Ui,
        original: &mut Layer,
        result: Option<&mut Layer>,
        mode: ViewMode,
        split: &mut f32,
        busy: bool,
        overlay: Option<Overlay<'_>>,
        roi: Option<crate::ui::jobs::Roi>,
    ) -> (Option<Hover>, bool) {
        let size = original.size();
        if size != self.last_size {
            self.last_size = size;
            self.fit = true;
        }
        let (rect, resp) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        self.rect = rect;
        let ctx = ui.ctx().clone();
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(24));
        let views: Vec<Rect> = if mode == ViewMode::SideBySide {
            let half = (rect.width() - 4.0) / 2.0;
            vec![
                Rect::from_min_size(rect.min, vec2(half, rect.height())),
                Rect::from_min_size(rect.min + vec2(half + 4.0, 0.0), vec2(half, rect.height())),
            ]
        } else {
            vec![rect]
        };
        let view0 = views[0];
        let (w, h) = (size.0 as f32, size.1 as f32);
        if self.fit {
            self.zoom = ((view0.width() - 8.0) / w)
                .min((view0.height() - 8.0) / h)
                .clamp(Self::min_zoom(size), 16.0);
            self.center = vec2(w / 2.0, h / 2.0);
        }

        // Input: wheel or pinch zooms about the cursor, drag pans or moves the divider.
        let divider_x = view0.left() + split.clamp(0.0, 1.0) * view0.width();
        let pointer = resp.hover_pos();
        if let Some(pos) = pointer {
            let (scroll, zd) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
            let factor = zd * (scroll.y * 0.0025).exp();
            if (factor - 1.0).abs() > 1e-4 {
                let view = views.iter().find(|v| v.contains(pos)).unwrap_or(&view0);
                let anchor = view.center();
                let img_pt = self.center + (pos - anchor) / self.zoom;
                let z = (self.zoom * factor).clamp(Self::min_zoom(size), MAX_ZOOM);
                self.center = img_pt - (pos - anchor) / z;
                self.zoom = z;
                self.fit = false;
            }
            if mode == ViewMode::Split && (pos.x - divider_x).abs() < DIVIDER_GRAB {
                ctx.set_cursor_icon(CursorIcon::ResizeHorizontal);
            }
        }
        // Shift+drag draws a region of interest (in image pixels), on the first view.
        let to_image = |p: Pos2| self.center + (p - view0.center()) / self.zoom;
        let clamp_px = |v: Vec2| vec2(v.x.clamp(0.0, w), v.y.clamp(0.0, h));
        if resp.drag_started() && ui.input(|i| i.modifiers.shift) {
            let origin = ui
                .input(|i| i.pointer.press_origin())
                .or_else(|| resp.interact_pointer_pos());
            self.roi_start = origin.map(|p| clamp_px(to_image(p)));
        }
        if let Some(a) = self.roi_start {
            if let Some(p) = resp.interact_pointer_pos() {
                let b = clamp_px(to_image(p));
                let (x0, y0) = (a.x.min(b.x).floor(), a.y.min(b.y).floor());
                let (x1, y1) = (a.x.max(b.x).ceil(), a.y.max(b.y).ceil());
                self.roi_drawing = Some(crate::ui::jobs::Roi {
                    x: x0 as usize,
                    y: y0 as usize,
                    w: ((x1 - x0) as usize).max(1),
                    h: ((y1 - y0) as usize).max(1),
                });
            }
            if resp.drag_stopped() || !resp.dragged() && !resp.drag_started() {
                self.roi_drawn = self.roi_drawing.take();
                self.roi_start = None;
            }
        }
        let drawing_roi = self.roi_start.is_some();
        if !drawing_roi && resp.drag_started() && mode == ViewMode::Split {
            // Hit-test where the button went down, not where the drag was recognised a few
            // pixels later: a quick drag from the divider moves it instead of panning.
            let origin = ui
                .input(|i| i.pointer.press_origin())
                .or_else(|| resp.interact_pointer_pos());
            self.dragging_split = origin.is_some_and(|p| (p.x - divider_x).abs() < DIVIDER_GRAB);
        }
        if resp.dragged() && !drawing_roi {
            if self.dragging_split {
                if let Some(p) = resp.interact_pointer_pos() {
                    *split = ((p.x - view0.left()) / view0.width()).clamp(0.0, 1.0);
                }
                ctx.set_cursor_icon(CursorIcon::ResizeHorizontal);
            } else {
                self.center -= resp.drag_delta() / self.zoom;
                self.fit = false;
                ctx.set_cursor_icon(CursorIcon::Grabbing);
            }
        }
        if resp.drag_stopped() {
            self.dragging_split = false;
        }
        if resp.double_clicked() {
            self.fit = true;
        }
        // Keep at least part of the image in view.
        self.center.x = self.center.x.clamp(0.0, w);
        self.center.y = self.center.y.clamp(0.0, h);

        let mut budget = TILES_PER_FRAME;
        let mut missing = false;
        let origin_of = |view: &Rect| view.center() - self.center * self.zoom;
        let label = |p: &Painter, at: Pos2, anchor: Align2, text: &str| {
            let font = FontId::proportional(13.0);
            let galley = p.layout_no_wrap(text.to_owned(), font, Color32::WHITE);
            let r = anchor.anchor_size(at, galley.size()).expand(4.0);
            p.rect_filled(r, 3.0, Color32::from_black_alpha(170));
            p.galley(r.min + vec2(4.0, 4.0), galley, Color32::WHITE);
        };
        let pending = if busy {
            "Result (updating…)"
        } else {
            "Result"
        };
        match (mode, result) {
            (ViewMode::Original, _) | (_, None) => {
                let p = painter.with_clip_rect(view0);
                missing |= original.paint(&ctx, &p, origin_of(&view0), self.zoom, &mut budget);
                if mode != ViewMode::Original {
                    let text = if busy {
                        "Original (result being computed…)"
                    } else {
                        "Original"
                    };
                    label(
                        &p,
                        view0.left_top() + vec2(8.0, 8.0),
                        Align2::LEFT_TOP,
                        text,
                    );
                } else {
                    label(
                        &p,
                        view0.left_top() + vec2(8.0, 8.0),
                        Align2::LEFT_TOP,
                        "Original",
                    );
                }
            }
            (ViewMode::Result | ViewMode::Errors, Some(res)) => {
                missing |= res.paint(&ctx, &painter, origin_of(&view0), self.zoom, &mut budget);
                if busy {
                    label(
                        &painter,
                        view0.left_top() + vec2(8.0, 8.0),
                        Align2::LEFT_TOP,
                        pending,
                    );
                }
            }
            (ViewMode::Split, Some(res)) => {
                let o = origin_of(&view0);
                let left = Rect::from_min_max(view0.min, pos2(divider_x, view0.max.y));
                let right = Rect::from_min_max(pos2(divider_x, view0.min.y), view0.max);
                let pl = painter.with_clip_rect(left);
                missing |= original.paint(&ctx, &pl, o, self.zoom, &mut budget);
                let pr = painter.with_clip_rect(right);
                missing |= res.paint(&ctx, &pr, o, self.zoom, &mut budget);
                painter.vline(divider_x, view0.y_range(), Stroke::new(2.0, Color32::WHITE));
                let knob = pos2(divider_x, view0.center().y);
                painter.circle_filled(knob, 10.0, Color32::WHITE);
                for dir in [-1.0f32, 1.0] {
                    let tip = knob + vec2(dir * 7.0, 0.0);
                    let base = knob + vec2(dir * 2.0, 0.0);
                    painter.add(egui::Shape::convex_polygon(
                        vec![tip, base + vec2(0.0, -4.0), base + vec2(0.0, 4.0)],
                        Color32::BLACK,
                        Stroke::NONE,
                    ));
                }
                label(
                    &painter,
                    view0.left_top() + vec2(8.0, 8.0),
                    Align2::LEFT_TOP,
                    "Original",
                );
                label(
                    &painter,
                    view0.right_top() + vec2(-8.0, 8.0),
                    Align2::RIGHT_TOP,
                    pending,
                );
            }
            (ViewMode::Overlay, Some(_)) => {
                let o = origin_of(&view0);
                let p = painter.with_clip_rect(view0);
                missing |= original.paint(&ctx, &p, o, self.zoom, &mut budget);
                if let Some(ov) = overlay {
                    let (fg, bg) = ov.style.colours();
                    let a = ov.opacity.clamp(0.0, 1.0);
                    missing |= ov.mask.paint_tinted(
                        &ctx,
                        &p,
                        o,
                        self.zoom,
                        &mut budget,
                        fg.gamma_multiply(a),
                    );
                    if let Some(bg) = bg {
                        missing |= ov.background.paint_tinted(
                            &ctx,
                            &p,
                            o,
                            self.zoom,
                            &mut budget,
                            bg.gamma_multiply(a),
                        );
                    }
                }
                label(
                    &p,
                    view0.left_top() + vec2(8.0, 8.0),
                    Align2::LEFT_TOP,
                    if busy {
                        "Overlay (updating…)"
                    } else {
                        "Overlay on the original"
                    },
                );
            }
            (ViewMode::SideBySide, Some(res)) => {
                let p0 = painter.with_clip_rect(views[0]);
                missing |= original.paint(&ctx, &p0, origin_of(&views[0]), self.zoom, &mut budget);
                let p1 = painter.with_clip_rect(views[1]);
                missing |= res.paint(&ctx, &p1, origin_of(&views[1]), self.zoom, &mut budget);
                label(
                    &p0,
                    views[0].left_top() + vec2(8.0, 8.0),
                    Align2::LEFT_TOP,
                    "Original",
                );
                label(
                    &p1,
                    views[1].left_top() + vec2(8.0, 8.0),
                    Align2::LEFT_TOP,
                    pending,
                );
            }
        }
        if let Some(r) = self.roi_drawing.or(roi) {
            for v in &views {
                let o = origin_of(v);
                let rect = Rect::from_min_size(
                    o + vec2(r.x as f32, r.y as f32) * self.zoom,
                    vec2(r.w as f32, r.h as f32) * self.zoom,
                );
                painter.with_clip_rect(*v).rect_stroke(
                    rect,
                    0.0,
                    Stroke::new(2.0, Color32::YELLOW),
                    egui::StrokeKind::Outside,
                );
            }
        }
        if missing {
            ctx.request_repaint();
        }

        let hover = pointer.and_then(|pos| {
            let view = views.iter().find(|v| v.contains(pos))?;
            let img = (pos - origin_of(view)) / self.zoom;
            (img.x >= 0.0 && img.y >= 0.0 && img.x < w && img.y < h).then_some(Hover {
                x: img.x as usize,
                y: img.y as usize,
            })
        });
        (hover, missing)
    }
}
