from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline.document import Box
from pipeline.options import Options
from pipeline.preprocess import denoise, measure_skew, needs_binarisation, prepare, rotate, sauvola, to_grey
from pipeline.synth import Degradation, degrade


@pytest.mark.parametrize("skew", [-1.5, -0.6, 0.0, 0.9, 2.5])
def test_measures_skew_within_a_fifth_of_a_degree(clean_pages, skew: float) -> None:
    image = degrade(clean_pages[0].image, Degradation(skew_deg=skew, blur=0.5, noise=6, seed=3))
    assert measure_skew(to_grey(image)) == pytest.approx(skew, abs=0.2)


def test_boxes_map_back_to_the_original_image(clean_pages) -> None:
    page = clean_pages[0]
    skewed = degrade(page.image, Degradation(skew_deg=1.2, seed=1))
    prepared = prepare(skewed, Options())
    assert prepared.angle == pytest.approx(1.2, abs=0.2)
    # Find the first text line on the straightened image and map its box back.
    ink_rows = np.where((prepared.image < 128).sum(axis=1) > 5)[0]
    top = int(ink_rows[0])
    ink_cols = np.where((prepared.image[top : top + 40] < 128).sum(axis=0) > 0)[0]
    box = Box(x0=int(ink_cols[0]), y0=top, x1=int(ink_cols[-1]) + 1, y1=top + 40)
    original = prepared.to_original(box)
    crop = np.asarray(skewed)[original.y0 : original.y1, original.x0 : original.x1]
    assert (crop < 128).sum() > 0.8 * (prepared.image[top : top + 40, box.x0 : box.x1] < 128).sum()
    assert original.width >= box.width


def test_denoise_removes_specks_but_keeps_text(clean_pages) -> None:
    page = clean_pages[0].image
    specky = degrade(page, Degradation(specks=3000, seed=2))
    cleaned = prepare(specky, Options(deskew=False)).image
    blank_area = (slice(3300, 3450), slice(100, 2300))  # below the text, inside the margin
    assert (np.asarray(specky)[blank_area] < 128).sum() > 0
    # Specks of 1-2 px go; 3 px specks are the size of a dot below (ạ, ệ) and are kept on purpose.
    assert (cleaned[blank_area] < 128).sum() < 0.4 * (np.asarray(specky)[blank_area] < 128).sum()


def test_binarises_only_shaded_pages(clean_pages) -> None:
    grey = to_grey(clean_pages[0].image)
    assert not needs_binarisation(grey)
    ramp = np.linspace(0, 120, grey.shape[1], dtype=np.float32)[None, :]
    shaded = np.clip(grey.astype(np.float32) - ramp, 0, 255).astype(np.uint8)
    assert needs_binarisation(shaded)
    binary = sauvola(shaded)
    assert set(np.unique(binary)) <= {0, 255}
    # The right edge is dark paper; Sauvola must turn it back into white paper.
    assert binary[3400:3450, -200:].mean() > 240
    assert prepare(Image.fromarray(shaded), Options()).binarised


@pytest.mark.parametrize("skew", [0.0, 1.3])
def test_the_shading_test_on_the_shared_small_copy_decides_as_on_the_deskewed_page(clean_pages, skew: float) -> None:
    # prepare judges shading on the skew measure's small copy, halved and turned: the decision
    # must be the one needs_binarisation makes on the deskewed, despeckled page itself, from
    # clean paper through the threshold to heavy shading (a ramp across, a stain).
    image = np.asarray(degrade(clean_pages[0].image, Degradation(skew_deg=skew, noise=6, seed=4)), dtype=np.float32)
    h, w = image.shape
    yy, xx = np.mgrid[0:h, 0:w]
    stain = np.exp(-(((xx - 0.3 * w) / (0.2 * w)) ** 2 + ((yy - 0.6 * h) / (0.15 * h)) ** 2))
    decided = []
    for amplitude in range(0, 100, 12):
        for shade in (np.linspace(0, amplitude, w)[None, :], amplitude * stain):
            page = np.clip(image - shade, 0, 255).astype(np.uint8)
            prepared = prepare(page, Options())
            turned = rotate(page, prepared.angle)[0] if abs(prepared.angle) >= 0.1 else page
            assert prepared.binarised == needs_binarisation(denoise(turned))
            decided.append(prepared.binarised)
    assert any(decided) and not all(decided)
