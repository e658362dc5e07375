#!/usr/bin/env python3
"""Makes tests/data/jpeg: small JPEGs in the layouts cameras and tools write (4:2:0, 4:2:2,
4:4:4, progressive, restart markers, arithmetic coding, EXIF orientation, gray, CMYK, odd
sizes, a file cut short), and what OpenCV makes of them: imread's pixels (saved as lossless
PNG) and, for the encoder, the exact bytes imwrite gives for a gray image.

usage: OPENCV_PYTHON=/tmp/opencv-peers/bin/python; $OPENCV_PYTHON scripts/make_jpeg_golden.py
Needs the peers environment (../shared/peers/setup.sh), ImageMagick's `convert` (the CMYK
file) and `jpegtran` from libjpeg-turbo-progs (the arithmetic-coded one).
tests/jpeg_golden.rs checks against it.
"""
import json, os, subprocess
import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "jpeg")
SRC = os.path.join(ROOT, "tests", "data", "golden", "chelsea", "input.png")

os.makedirs(OUT, exist_ok=True)
im = cv2.imread(SRC, cv2.IMREAD_COLOR)
crop = im[60:180, 120:280]  # 160x120, the cat's face
odd = im[10:47, 200:237 + 13]  # 50x37: partial MCUs on both sides
cases = []


def case(name, img, params, cut=None, data=None):
    if data is None:
        ok, buf = cv2.imencode(".jpg", img, params)
        assert ok
        data = buf.tobytes()
    if cut:
        data = data[: int(len(data) * cut)]
    path = os.path.join(OUT, name + ".jpg")
    open(path, "wb").write(data)
    dec = cv2.imread(path, cv2.IMREAD_COLOR)
    assert dec is not None, name
    cv2.imwrite(os.path.join(OUT, name + ".decoded.png"), dec)
    gray = cv2.cvtColor(dec, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(os.path.join(OUT, name + ".gray.png"), gray)
    cases.append({"input": name + ".jpg", "decoded": name + ".decoded.png",
                  "gray": name + ".gray.png"})


S = cv2.IMWRITE_JPEG_SAMPLING_FACTOR
case("q95_420", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
case("q80_422", crop, [cv2.IMWRITE_JPEG_QUALITY, 80, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422])
case("q90_444", crop, [cv2.IMWRITE_JPEG_QUALITY, 90, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
case("q75_progressive", crop, [cv2.IMWRITE_JPEG_QUALITY, 75, cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
case("q95_restarts", crop, [cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_RST_INTERVAL, 3])
case("odd_50x37_420", odd, [cv2.IMWRITE_JPEG_QUALITY, 92])
case("gray", cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 95])
# Cut at 60%: libjpeg warns, fills the rest grey, and imread returns the image.
case("truncated_420", crop, [cv2.IMWRITE_JPEG_QUALITY, 95], cut=0.6)

# CMYK (Adobe, inverted), as print workflows write: made by ImageMagick, which OpenCV cannot.
tmp = os.path.join(OUT, "cmyk-source.png")
cv2.imwrite(tmp, odd)
cmyk = subprocess.run(["convert", tmp, "-colorspace", "CMYK", "-quality", "90", "jpg:-"],
                      check=True, capture_output=True).stdout
os.remove(tmp)
case("cmyk_adobe", None, None, data=cmyk)

# Arithmetic coding (SOF9), which libjpeg-turbo decodes: recoded losslessly by jpegtran.
base = open(os.path.join(OUT, "q95_420.jpg"), "rb").read()
arith = subprocess.run(["jpegtran", "-arithmetic"], input=base, check=True,
                       capture_output=True).stdout
case("arithmetic_420", None, None, data=arith)

# EXIF orientation 6 ("rotate 90° clockwise"), as phones write it: an APP1 segment put after
# SOI of an OpenCV-written file. imread turns the pixels, and so must we.
exif = (b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06"
        + b"\0\0\0\0\0\0")
app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
case("exif_orientation_6", None, None, data=base[:2] + app1 + base[2:])

# The encoder: imwrite's bytes (quality 95, its default) for gray results.
gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 11, 2)
encoded = []
for name, img in [("enc_gray", gray), ("enc_binary", binary), ("enc_odd", gray[:37, :50])]:
    cv2.imwrite(os.path.join(OUT, name + ".png"), img)
    cv2.imwrite(os.path.join(OUT, name + ".jpg"), img)
    encoded.append({"pixels": name + ".png", "jpeg": name + ".jpg"})

json.dump({"opencv": cv2.__version__, "decode": cases, "encode": encoded},
          open(os.path.join(OUT, "manifest.json"), "w"), indent=1)
print(f"{len(cases)} decode cases, {len(encoded)} encode cases, OpenCV {cv2.__version__}")
