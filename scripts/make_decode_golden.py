#!/usr/bin/env python3
"""Makes crates/engine/tests/data/decode: small deterministic images in every input format
tessera reads (PNG, TIFF, BMP, PNM, WebP, GIF), in the layouts that decode differently
(8/16 bits, alpha, palettes, odd PNM maxvals, 16-bit BMP, JPEG-in-TIFF, float TIFF), and
what OpenCV makes of them: `cv2.imread(path, IMREAD_COLOR)` then `cvtColor(BGR2GRAY)`,
saved as an 8-bit gray PNG. `manifest.json` lists every case: `file`, `expected`,
`opencv` (version), `status` ("exact": tessera must give the same pixels; "documented": a
difference described in `note` and in source.rs, the expected file then being what the
note says) and `note`. A few corrupt files (`expected` null) carry the start of the
`error` tessera must give. crates/engine/tests/decode_golden.rs checks against it.

usage: /work/cvenv/bin/python scripts/make_decode_golden.py   (OpenCV 5.1, numpy, tifffile,
pillow)
"""
import io, json, os, struct
import cv2
import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "engine", "tests", "data", "decode")
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))

H, W = 32, 48
rng = np.random.default_rng(20261123)
yy, xx = np.mgrid[0:H, 0:W]


def rgb8():
    """A smooth colour picture with some noise: compresses well, exercises every channel."""
    r = xx * 4 + rng.integers(0, 8, (H, W))
    g = yy * 5 + rng.integers(0, 8, (H, W))
    b = (xx * yy) % 200 + rng.integers(0, 40, (H, W))
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def gray8():
    return np.clip(xx * 3 + yy * 2 + rng.integers(0, 16, (H, W)), 0, 255).astype(np.uint8)


def u16(img8):
    """16-bit samples whose low bytes are all over the place (so 16->8 rules show)."""
    low = (xx * 37 + yy * 91) % 256
    if img8.ndim == 3:
        low = np.dstack([(low + 85 * i) % 256 for i in range(img8.shape[2])])
    return (img8.astype(np.uint16) << 8) | low.astype(np.uint16)


def alpha():
    a = np.clip((xx * 255) // (W - 1) + rng.integers(-20, 20, (H, W)), 0, 255)
    a[:, :6] = 0
    a[:, -6:] = 255
    return a.astype(np.uint8)


cases = []


def add(name, data, note="", status="exact", expected_gray=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    if callable(expected_gray):
        assert cv2.imread(path, cv2.IMREAD_COLOR) is None, name
        expected_gray = expected_gray(path)
    if expected_gray is None:
        dec = cv2.imread(path, cv2.IMREAD_COLOR)
        assert dec is not None, name
        expected_gray = cv2.cvtColor(dec, cv2.COLOR_BGR2GRAY)
    exp = os.path.splitext(name)[0] + "-" + name.rsplit(".", 1)[1] + ".gray.png"
    cv2.imwrite(os.path.join(OUT, exp), expected_gray, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    cases.append({"file": name, "expected": exp, "opencv": cv2.__version__,
                  "status": status, "note": note})


def add_corrupt(name, data, error, note):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    dec = cv2.imread(os.path.join(OUT, name), cv2.IMREAD_COLOR)
    opencv = "refuses it" if dec is None else "reads it (%dx%d)" % (dec.shape[1], dec.shape[0])
    cases.append({"file": name, "expected": None, "opencv": cv2.__version__,
                  "status": "error", "error": error, "note": note + "; OpenCV " + opencv})


def enc(ext, img, params=()):
    ok, buf = cv2.imencode(ext, img, list(params))
    assert ok
    return buf.tobytes()


def pil(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def tif(arr, **kw):
    b = io.BytesIO()
    tifffile.imwrite(b, arr, **kw)
    return b.getvalue()


def tiff_by_hand(width, height, spp, bps, photometric, compression, strips, extra=()):
    """A little-endian TIFF with the given strips (byte strings) and tags, for layouts the
    writers at hand do not make."""
    entries = [(256, 3, [width]), (257, 3, [height]), (258, 3, [bps] * spp),
               (259, 3, [compression]), (262, 3, [photometric]), (277, 3, [spp]),
               (278, 3, [-(-height // len(strips))]), (284, 3, [1])] + list(extra)
    entries.append((273, 4, [0] * len(strips)))
    entries.append((279, 4, [len(s) for s in strips]))
    entries.sort()
    size = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1}
    ifd_len = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_len
    blobs = b""

    def pack(t, vals):
        return b"".join(struct.pack("<" + {1: "B", 2: "B", 3: "H", 4: "I", 7: "B"}[t], v)
                        for v in vals)
    # Values over 4 bytes go after the IFD, then the strips.
    out_entries = []
    for tag, t, vals in entries:
        out_entries.append([tag, t, vals])
    extern = {}
    for e in out_entries:
        if len(e[2]) * size[e[1]] > 4 and e[0] != 273:
            extern[e[0]] = data_at + len(blobs)
            blobs += pack(e[1], e[2])
            if len(blobs) % 2:
                blobs += b"\0"
    strip_at = data_at + len(blobs)
    offsets = []
    body = b""
    for s in strips:
        offsets.append(strip_at + len(body))
        body += s
    for e in out_entries:
        if e[0] == 273:
            e[2] = offsets
    if len(strips) > 1:
        extern[273] = strip_at + len(body)
        body += pack(4, offsets)
    ifd = struct.pack("<H", len(out_entries))
    for tag, t, vals in out_entries:
        if tag in extern:
            ifd += struct.pack("<HHII", tag, t, len(vals), extern[tag])
        else:
            v = pack(t, vals)
            ifd += struct.pack("<HHI", tag, t, len(vals)) + v + b"\0" * (4 - len(v))
    ifd += b"\0\0\0\0"
    return b"II*\0" + struct.pack("<I", 8) + ifd + blobs + body


def bmp16(img_bgr8, masks):
    """A bottom-up 16-bit BMP: BI_RGB (5-5-5) when `masks` is None, else BI_BITFIELDS."""
    b, g, r = (img_bgr8[..., i].astype(np.uint16) for i in range(3))
    if masks is None or masks == (0x7C00, 0x3E0, 0x1F):
        px = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
        px |= (rng.integers(0, 2, px.shape).astype(np.uint16) << 15)  # the unused top bit
    else:
        px = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
    h, w = px.shape
    pitch = (w * 2 + 3) & ~3
    rows = b"".join(px[y].astype("<u2").tobytes().ljust(pitch, b"\0") for y in range(h - 1, -1, -1))
    extra = b"" if masks is None else struct.pack("<III", *masks)
    off = 14 + 40 + len(extra)
    head = b"BM" + struct.pack("<IHHI", off + len(rows), 0, 0, off)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 16, 0 if masks is None else 3, len(rows),
                       2835, 2835, 0, 0)
    return head + info + extra + rows


def pnm(magic, maxval, arr, ascii_=False):
    h, w = arr.shape[:2]
    head = b"%s\n# tessera golden\n%d %d\n%d\n" % (magic, w, h, maxval)
    if ascii_:
        return head + "\n".join(" ".join(str(int(v)) for v in row.ravel())
                                for row in arr).encode() + b"\n"
    dt = ">u2" if maxval > 255 else "u1"
    return head + arr.astype(dt).tobytes()


# ---------------------------------------------------------------- PNG
c, g = rgb8(), gray8()
a = alpha()
add("gray8.png", enc(".png", g))
add("rgb8.png", enc(".png", c[..., ::-1]))
add("rgba8.png", enc(".png", np.dstack([c[..., ::-1], a])),
    "alpha dropped, not composited (libpng strip-alpha)")
add("gray_alpha8.png", pil(Image.fromarray(np.dstack([g, a]), "LA"), "PNG"), "alpha dropped")
pal = Image.fromarray(c).quantize(colors=37, method=Image.Quantize.MEDIANCUT)
add("palette8.png", pil(pal, "PNG"))
pal_t = pal.copy()
pal_t.info["transparency"] = bytes(range(0, 256, 7))[:37]
add("palette8_trns.png", pil(pal_t, "PNG"), "palette with tRNS: alpha dropped")
add("bilevel1.png", pil(Image.fromarray(g > 100), "PNG"), "1-bit gray")
add("gray16.png", enc(".png", u16(g)), "16-bit: high byte (libpng strip-16)")
add("rgb16.png", enc(".png", u16(c)[..., ::-1]), "16-bit: high byte (libpng strip-16)")
add("rgba16.png", enc(".png", np.dstack([u16(c)[..., ::-1], u16(a)])),
    "16-bit: high byte, alpha dropped")

# ---------------------------------------------------------------- TIFF
add("gray8.tif", tif(g))
add("rgb8_lzw.tif", pil(Image.fromarray(c), "TIFF", compression="tiff_lzw"))
add("rgb8_deflate_pred.tif", tif(c, photometric="rgb", compression="zlib", predictor=True))
add("rgb8_tiled.tif", tif(c, photometric="rgb", tile=(16, 16)))
add("rgb8_planar.tif", tif(np.moveaxis(c, -1, 0), photometric="rgb", planarconfig="separate"))
add("gray16.tif", tif(u16(g)), "16-bit gray: high byte (libtiff's RGBA reader)")
add("rgb16.tif", tif(u16(c), photometric="rgb"),
    "16-bit RGB: (v*255+32767)/65535, i.e. v/257 rounded (libtiff's RGBA reader)")
add("rgba8_unassoc.tif", tif(np.dstack([c, a]), photometric="rgb", extrasamples=["unassalpha"]),
    "unassociated alpha: colour premultiplied, (c*a+127)/255 (libtiff's RGBA reader)")
add("rgba8_assoc.tif", tif(np.dstack([c, a]), photometric="rgb", extrasamples=["assocalpha"]),
    "associated alpha: colour as stored")
add("rgba16_unassoc.tif", tif(np.dstack([u16(c), u16(a)]), photometric="rgb",
                              extrasamples=["unassalpha"]),
    "16-bit unassociated alpha: each sample v/257 rounded, then premultiplied")
add("gray_alpha8.tif", tif(np.dstack([g, a]), photometric="minisblack",
                           extrasamples=["unassalpha"]), "gray + alpha: alpha ignored")
add("miniswhite8.tif", tif(g, photometric="miniswhite"), "WhiteIsZero: 255 - v")
cmap = rng.integers(0, 65536, (3, 256)).astype(np.uint16)
add("palette8.tif", tif(g, photometric="palette", colormap=cmap),
    "16-bit colour map: high byte of each entry")
add("rgb8_jpeg.tif", pil(Image.fromarray(c), "TIFF", compression="jpeg", quality=85),
    "JPEG-in-TIFF (RGB, JPEGTables): libjpeg-turbo via libtiff")
add("gray8_jpeg.tif", pil(Image.fromarray(g), "TIFF", compression="jpeg", quality=85),
    "JPEG-in-TIFF, gray")
# YCbCr 4:2:0 JPEG-in-TIFF, two strips, each a whole JPEG stream (no JPEGTables).
strips = [enc(".jpg", c[i:i + H // 2, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90]) for i in (0, H // 2)]
add("ycbcr_jpeg.tif", tiff_by_hand(W, H, 3, 8, 6, 7, strips, [(530, 3, [2, 2])]),
    "JPEG-in-TIFF, YCbCr 4:2:0, two strips")
f32 = (g.astype(np.float32) / 255.0 + rng.normal(0, 0.02, g.shape)).astype(np.float32)
f32[0, :4] = [-0.5, 1.5, 0.5 / 255, 1.5 / 255]
add("float32.tif", tif(f32), status="documented",
    note="OpenCV 5.1 imread(IMREAD_COLOR) refuses float TIFFs (TIFFRGBAImageOK: 32-bit "
         "samples); expected is imread(IMREAD_UNCHANGED) then convertTo(CV_8U, 255): "
         "v*255 in f32, rounded half to even, saturated to 0..255",
    expected_gray=lambda p: np.clip(np.rint(cv2.imread(p, cv2.IMREAD_UNCHANGED)
                                            * np.float32(255)), 0, 255).astype(np.uint8))
# A 64x64 gray TIFF whose StripOffsets claims 2^28 strips: corrupt, not "too large".
good = tif(np.zeros((64, 64), np.uint8))
t = tifffile.TiffFile(io.BytesIO(good))
tag = t.pages[0].tags["StripOffsets"]
bogus = bytearray(good)
struct.pack_into("<I", bogus, tag.offset + 4, 0x10000000)
t.close()
add_corrupt("bogus_strip_count.tif", bytes(bogus), "corrupt TIFF",
            "64x64 gray, StripOffsets count 268435456 (one strip in the file)")
add("bilevel1.tif", pil(Image.fromarray(g > 100), "TIFF"), "1-bit gray: 0 or 255")
add("cmyk8.tif", tif(np.dstack([c, g]), photometric="separated"),
    "CMYK: libtiff's k*(255-c)/255, rounded down")

# ---------------------------------------------------------------- BMP
add("rgb24.bmp", enc(".bmp", c[..., ::-1]))
add("rgba32.bmp", enc(".bmp", np.dstack([c[..., ::-1], a])), "32-bit BGRA: alpha dropped")
add("palette8.bmp", pil(pal, "BMP"))
add("bilevel1.bmp", pil(Image.fromarray(g > 100), "BMP"))
add("rgb555.bmp", bmp16(c[..., ::-1], None),
    "16-bit BI_RGB 5-5-5: (v<<3) per channel, low bits zero (no bit replication)")
add("rgb565.bmp", bmp16(c[..., ::-1], (0xF800, 0x7E0, 0x1F)),
    "16-bit BI_BITFIELDS 5-6-5: (v<<3), (v<<2), (v<<3)")

# ---------------------------------------------------------------- PNM
add("gray8.pgm", pnm(b"P5", 255, g))
add("rgb8.ppm", pnm(b"P6", 255, c))
add("gray16.pgm", pnm(b"P5", 65535, u16(g)), "16-bit: high byte")
add("rgb16.ppm", pnm(b"P6", 65535, u16(c)), "16-bit: high byte")
m1000 = (g.astype(np.uint32) * 1000 // 255).astype(np.uint16)
add("maxval1000.pgm", pnm(b"P5", 1000, m1000),
    "maxval ignored: 16-bit samples, high byte (so 0..3)")
m100 = (g.astype(np.uint32) * 100 // 255).astype(np.uint8)
add("maxval100.pgm", pnm(b"P5", 100, m100), "binary, maxval < 255: samples as stored")
add("maxval100_ascii.pgm", pnm(b"P2", 100, m100, ascii_=True),
    "ASCII, maxval < 256: min(v, maxval)*255/maxval, rounded down")
add("maxval1000_ascii.pgm", pnm(b"P2", 1000, m1000, ascii_=True),
    "ASCII, maxval > 255: min(v, maxval) >> 8")
add("rgb8_ascii.ppm", pnm(b"P3", 255, c, ascii_=True))
add("bilevel.pbm", pil(Image.fromarray(g > 100), "PPM"), "P4: 1 is black")

# ---------------------------------------------------------------- WebP, GIF
add("rgb_lossless.webp", enc(".webp", c[..., ::-1], [cv2.IMWRITE_WEBP_QUALITY, 101]))
add("rgba_lossless.webp", pil(Image.fromarray(np.dstack([c, a]), "RGBA"), "WEBP", lossless=True,
                              exact=True), "alpha dropped, not composited")
add("palette.gif", pil(pal, "GIF"))

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump({"opencv": cv2.__version__, "cases": cases}, f, indent=1)
total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
print(f"{len(cases)} cases, {total // 1024} KiB in {OUT}")
