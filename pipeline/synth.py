"""Synthetic scans: render text into page images that look scanned, with the ground truth.

Used by the tests, the bundled sample archive, the benchmarks and the restore-model data
builder, so all of them read pages whose exact text the project wrote itself.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "FONTS",
    "Columns",
    "Degradation",
    "PageStyle",
    "Para",
    "RenderedPage",
    "degrade",
    "find_font",
    "plan_layout",
    "plan_paragraphs",
    "render_pages",
    "scanned",
]

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/share/texmf/fonts/opentype/public/tex-gyre"),
    Path("/usr/local/share/fonts"),
)
# Fonts with complete Vietnamese glyphs, by the Debian package that ships them.
FONTS = {
    "liberation-serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),  # fonts-liberation2
    "dejavu-serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),  # fonts-dejavu-core
    "dejavu-sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "freeserif": ("FreeSerif.ttf", "FreeSerifBold.ttf"),  # fonts-freefont-ttf
    "texgyre-termes": ("texgyretermes-regular.otf", "texgyretermes-bold.otf"),  # fonts-texgyre
}


@dataclass(frozen=True)
class Para:
    """A paragraph to render; wrapped to the text width."""

    text: str
    align: Literal["left", "center", "justify"] = "left"
    bold: bool = False
    indent_pt: float = 0.0


@dataclass(frozen=True)
class Columns:
    """Two blocks side by side, each centred in its half: the letterhead of a Vietnamese plan
    (issuer and number on the left, national motto and place/date on the right), or the
    recipients beside the signature."""

    left: tuple[Para, ...]
    right: tuple[Para, ...]
    split: float = 0.42  # share of the text width given to the left column


@dataclass(frozen=True)
class PageStyle:
    font: str = "liberation-serif"
    size_pt: float = 13.0
    dpi: int = 300
    page_in: tuple[float, float] = (8.27, 11.69)  # A4
    margin_in: float = 0.9
    line_spacing: float = 1.4
    paragraph_gap: float = 0.3  # in lines


@dataclass(frozen=True)
class Degradation:
    """How a clean render is made to look scanned. Angles in degrees, counter-clockwise."""

    skew_deg: float = 0.0
    blur: float = 0.0  # Gaussian radius in pixels
    noise: float = 0.0  # std of Gaussian pixel noise (0..255 scale)
    specks: int = 0  # number of random dark specks
    jpeg_quality: int | None = None
    binarize: bool = False
    seed: int = 0


@dataclass
class RenderedPage:
    image: Image.Image
    lines: list[str] = field(default_factory=list)  # ground truth, one entry per rendered line
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)


@cache
def find_font(name: str, bold: bool = False) -> Path:
    """Path of one of FONTS; FileNotFoundError names the Debian package to install."""
    filename = FONTS[name][1 if bold else 0]
    for root in FONT_DIRS:
        for path in root.rglob(filename) if root.is_dir() else ():
            return path
    raise FileNotFoundError(
        f"font {filename} not found; apt-get install fonts-liberation2 fonts-dejavu-core "
        "fonts-freefont-ttf fonts-texgyre"
    )


@lru_cache(maxsize=32)
def _font(name: str, bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font(name, bold)), size_px)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render_pages(paragraphs: list[str | Para | Columns], style: PageStyle = PageStyle()) -> list[RenderedPage]:
    """Lay paragraphs out on as many white pages as needed (greyscale, 'L' mode)."""
    px = style.dpi / 72.0
    width, height = (round(v * style.dpi) for v in style.page_in)
    margin = round(style.margin_in * style.dpi)
    size = max(6, round(style.size_pt * px))
    step = round(size * style.line_spacing)
    pages: list[RenderedPage] = []

    def new_page() -> tuple[RenderedPage, ImageDraw.ImageDraw]:
        page = RenderedPage(Image.new("L", (width, height), 255))
        pages.append(page)
        return page, ImageDraw.Draw(page.image)

    page, draw = new_page()
    y = margin

    def draw_line(line: str, font: ImageFont.FreeTypeFont, x: float, y: int, justify_to: float | None) -> None:
        words = line.split()
        if justify_to is None or len(words) < 2:
            draw.text((x, y), line, font=font, fill=0)
        else:  # spread the words over the full width, as word processors justify
            gap = (justify_to - sum(font.getlength(w) for w in words)) / (len(words) - 1)
            cursor = x
            for word in words:
                draw.text((cursor, y), word, font=font, fill=0)
                cursor += font.getlength(word) + gap
        page.lines.append(line)
        right = x + (justify_to if justify_to is not None and len(words) > 1 else font.getlength(line))
        top = draw.textbbox((x, y), line, font=font)
        page.boxes.append((round(top[0]), round(top[1]), round(right), round(top[3])))

    def block(paras: tuple[Para, ...], left: float, width_px: float) -> list[tuple[str, ImageFont.FreeTypeFont, float]]:
        laid = []
        for para in paras:
            font = _font(style.font, para.bold, size)
            for line in _wrap(para.text, font, width_px):
                laid.append(
                    (line, font, left + (width_px - font.getlength(line)) / 2 if para.align == "center" else left)
                )
        return laid

    text_width = width - 2 * margin
    for para in paragraphs:
        if isinstance(para, Columns):
            cut = text_width * para.split
            left = block(para.left, margin, cut - step)
            right = block(para.right, margin + cut, text_width - cut)
            if y + step * max(len(left), len(right)) > height - margin:
                page, draw = new_page()
                y = margin
            for column in (left, right):
                for k, (line, font, x) in enumerate(column):
                    draw_line(line, font, x, y + k * step, None)
            y += step * max(len(left), len(right)) + round(step * style.paragraph_gap)
            continue
        para = para if isinstance(para, Para) else Para(para)
        font = _font(style.font, para.bold, size)
        indent = round(para.indent_pt * px)
        wrapped = _wrap(para.text, font, text_width - indent)
        for k, line in enumerate(wrapped):
            if y + step > height - margin:
                page, draw = new_page()
                y = margin
            line_width = font.getlength(line)
            x = margin + indent if para.align != "center" else (width - line_width) / 2
            last = k == len(wrapped) - 1
            draw_line(line, font, x, y, text_width - indent if para.align == "justify" and not last else None)
            y += step
        y += round(step * style.paragraph_gap)
    return pages


def degrade(image: Image.Image, how: Degradation) -> Image.Image:
    """Skew, blur, noise, specks, JPEG and/or black-and-white, reproducibly from how.seed."""
    rng = np.random.default_rng(how.seed)
    out = image.convert("L")
    if how.skew_deg:
        out = out.rotate(how.skew_deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    if how.blur:
        out = out.filter(ImageFilter.GaussianBlur(how.blur))
    pixels = np.asarray(out, dtype=np.float32)
    if how.noise:
        pixels = pixels + rng.normal(0.0, how.noise, pixels.shape)
    if how.specks:
        h, w = pixels.shape
        ys, xs = rng.integers(0, h - 3, how.specks), rng.integers(0, w - 3, how.specks)
        sizes = rng.integers(1, 4, how.specks)
        for y0, x0, s in zip(ys, xs, sizes, strict=True):
            pixels[y0 : y0 + s, x0 : x0 + s] = rng.uniform(0, 90)
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    if how.binarize:
        out = out.point(lambda v: 255 if v > 150 else 0).convert("1").convert("L")
    if how.jpeg_quality:
        buffer = io.BytesIO()
        out.save(buffer, "JPEG", quality=how.jpeg_quality)
        out = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return out


def scanned(seed: int) -> Degradation:
    """A typical office-scanner look: small random skew, slight blur, noise, JPEG."""
    rnd = random.Random(seed)
    return Degradation(skew_deg=rnd.uniform(-1.5, 1.5), blur=0.6, noise=8.0, specks=60, jpeg_quality=70, seed=seed)


_CENTRED_HEADS = ("ỦY BAN", "TỈNH ", "CỘNG HÒA", "Độc lập", "KẾ HOẠCH", "TM.", "KT.", "PHÓ CHỦ", "CHỦ TỊCH")


def plan_paragraphs(text: str) -> list[Para]:
    """Lay out a plan's text the way provincial plans are typeset: centred letterhead, title
    and signature block, bold section headings, the rest as body paragraphs."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraphs = []
    title_next = False
    for index, line in enumerate(lines):
        centred = line.startswith(_CENTRED_HEADS) or title_next or (index >= len(lines) - 1 and len(line) < 40)
        heading = line.isupper() or line[:3].rstrip(".").strip() in {"I", "II", "III", "IV", "V", "VI"}
        paragraphs.append(Para(line, align="center" if centred else "left", bold=(heading and not centred) or centred))
        title_next = line == "KẾ HOẠCH"
    return paragraphs


_MOTTO = re.compile(r"^(CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM)\s*(.*)$")
_NUMBER_LINE = re.compile(r"^Số\s*:")
_DATE_LINE = re.compile(r"ngày\s+\S+\s+tháng\s+\S+\s+năm\s+\d{4}")


def plan_layout(text: str) -> list[Para | Columns]:
    """A real plan's text (one paragraph per line) typeset as such plans are printed: the
    letterhead in two columns (issuer and number | national motto and place, date), bold
    centred title, bold headings, justified body paragraphs."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    head = 0
    left: list[Para] = []
    right: list[Para] = []
    for index, line in enumerate(lines[:8]):
        motto = _MOTTO.match(line)
        if motto:
            right += [Para(motto[1], align="center", bold=True)]
            right += [Para(motto[2], align="center", bold=True)] if motto[2] else []
        elif _DATE_LINE.search(line) and not _NUMBER_LINE.match(line):
            right.append(Para(line, align="center"))
        elif _NUMBER_LINE.match(line) or not right:
            left.append(Para(line, align="center", bold=not _NUMBER_LINE.match(line)))
        else:
            break
        head = index + 1
    body = [
        para if para.align == "center" or para.bold else Para(para.text, align="justify")
        for para in plan_paragraphs("\n".join(lines[head:]))
    ]
    return ([Columns(tuple(left), tuple(right))] if left and right else []) + body
