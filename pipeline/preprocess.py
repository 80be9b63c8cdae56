"""OpenCV clean-up of a page image before OCR: greyscale, deskew, denoise, binarise.

Each step is a plain function on a greyscale uint8 array. `prepare` chains them and keeps
the affine transform so that word boxes found on the cleaned image map back to the
original image's coordinates (`Prepared.to_original`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from pipeline.document import Box
from pipeline.options import Options

__all__ = ["Prepared", "denoise", "measure_skew", "needs_binarisation", "prepare", "rotate", "sauvola", "to_grey"]

_MAX_SKEW = 5.0  # degrees; scans beyond this are rare and deskewing them risks more harm than good


@dataclass
class Prepared:
    image: np.ndarray  # greyscale uint8, what tesseract reads
    angle: float  # measured skew in degrees, counter-clockwise positive
    binarised: bool
    inverse: np.ndarray  # 2x3 affine: prepared coordinates → original coordinates
    original_size: tuple[int, int]  # (width, height)

    def to_original(self, box: Box) -> Box:
        """Map a box on the prepared image back onto the original image (clipped to it)."""
        corners = np.array(
            [[box.x0, box.y0, 1], [box.x1, box.y0, 1], [box.x0, box.y1, 1], [box.x1, box.y1, 1]], dtype=np.float64
        )
        mapped = corners @ self.inverse.T
        width, height = self.original_size
        x0, y0 = np.floor(mapped.min(axis=0)).astype(int)
        x1, y1 = np.ceil(mapped.max(axis=0)).astype(int)
        return Box(x0=max(0, int(x0)), y0=max(0, int(y0)), x1=min(width, int(x1)), y1=min(height, int(y1)))


def to_grey(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.mode in ("RGBA", "LA", "P"):
        # Transparent areas are paper, not ink.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)  # scans are mostly L


_SKEW_SIZE = 1200  # pixels along the longer side: text rows at this size still measure skew to 0.05 degrees
_SHADING_SIZE = 600  # closing out the text at this size leaves the paper's shading


def _shrink(grey: np.ndarray, size: int) -> np.ndarray:
    """The image with its longer side at most `size` pixels (area averaging)."""
    scale = min(1.0, size / max(grey.shape))
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey


def measure_skew(grey: np.ndarray) -> float:
    """Skew angle in degrees by projection profiles: the rotation that makes text rows sharpest
    (measured on a copy of at most _SKEW_SIZE pixels: pass one to spare the resize)."""
    small = _shrink(grey, _SKEW_SIZE)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # specks carry no row signal
    if cv2.countNonZero(ink) < 50:
        return 0.0
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        rotated = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, angle, 1.0), (w, h), flags=cv2.INTER_NEAREST)
        # cv2.reduce sums the rows in integers a dozen times faster than numpy's float sum (the
        # same values): it was a third of this function's time.
        rows = cv2.reduce(rotated, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.float64)
        return float(np.sum(np.diff(rows) ** 2))

    best = max(np.arange(-_MAX_SKEW, _MAX_SKEW + 1e-9, 0.5), key=sharpness)
    best = max(np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05), key=sharpness)
    # getRotationMatrix2D's positive angle turns the image counter-clockwise on screen, so a
    # page skewed counter-clockwise by s is straightened by best = -s.
    return -round(float(best), 2)


def rotate(grey: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by -angle (undoing a counter-clockwise skew); returns image and forward matrix."""
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    out = cv2.warpAffine(grey, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)
    return out, matrix


def denoise(grey: np.ndarray) -> np.ndarray:
    """A 3×3 median removes salt-and-pepper specks and scanner grain without eroding strokes."""
    return cv2.medianBlur(grey, 3)


def sauvola(grey: np.ndarray, window: int = 41, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola adaptive threshold: copes with shading and stains where a global threshold fails."""
    img = grey.astype(np.float64)
    mean = cv2.boxFilter(img, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    sq_mean = cv2.boxFilter(img * img, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(sq_mean - mean * mean, 0))
    threshold = mean * (1 + k * (std / r - 1))
    return np.where(img > threshold, 255, 0).astype(np.uint8)


def needs_binarisation(grey: np.ndarray) -> bool:
    """True when the paper is unevenly lit or stained (tesseract's global Otsu would lose text);
    judged on a copy of at most _SHADING_SIZE pixels (pass one to spare the resize)."""
    small = _shrink(grey, _SHADING_SIZE)
    # Closing removes the text strokes and leaves the paper: its spread is the shading.
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    low, high = np.percentile(background, [5, 95])
    return bool(high - low > 40)


def _shading_copy(small: np.ndarray, angle: float) -> np.ndarray:
    """The skew copy halved and turned as the page is: what needs_binarisation saw when it shrank
    the deskewed page itself (the white corners the rotation brings in count as paper). Bilinear
    is enough here: a 15-pixel closing follows, and the despeckling median is below this scale."""
    half = _shrink(small, _SHADING_SIZE)
    if abs(angle) < 0.1:
        return half
    h, w = half.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    return cv2.warpAffine(half, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def prepare(image: Image.Image | np.ndarray, options: Options) -> Prepared:
    grey = to_grey(image)
    h, w = grey.shape
    # One small copy serves the skew measure and the shading test: resizing the 300-DPI page by
    # a fractional factor cost as much as either measure (a halving takes a tenth of that).
    small = _shrink(grey, _SKEW_SIZE)
    angle = measure_skew(small) if options.deskew else 0.0
    forward = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if abs(angle) >= 0.1:
        grey, forward = rotate(grey, angle)
    if options.denoise:
        grey = denoise(grey)
    binarise = options.binarize == "always" or (
        options.binarize == "auto" and needs_binarisation(_shading_copy(small, angle))
    )
    if binarise:
        grey = sauvola(grey)
    return Prepared(
        image=grey,
        angle=angle,
        binarised=binarise,
        inverse=cv2.invertAffineTransform(forward),
        original_size=(w, h),
    )
