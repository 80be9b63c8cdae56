"""The vie OCR corrector (restore/vie.py) on a tiny channel and a tiny LM written here: no files."""

from __future__ import annotations

import random

import pytest
from conftest import lm_from_sentences

from pipeline.document import Line, Page, Token
from pipeline.options import Options
from pipeline.restore.candidates import CandidateGenerator
from pipeline.restore.channel import Channel, ChannelSettings
from pipeline.restore.ngram import line_units
from pipeline.restore.noise import NoiseModel
from pipeline.restore.paths import has_model
from pipeline.restore.vie import (
    CHANNEL_SETTINGS,
    FLAG,
    VieChannel,
    VieCorrector,
    VieSettings,
    case_repairs,
    correct_page,
    vie_channel,
)

# Written for this test: short plan-style sentences where a tone mark decides the word.
SENTENCES = [
    "Phát triển kinh tế và xã hội của tỉnh.",
    "Kế hoạch phát triển thông tin đối ngoại năm nay.",
    "Thông tin đối ngoại được các sở quan tâm.",
    "Đổi mới công tác thông tin đối ngoại.",
    "Các sở đổi mới công tác quản lý.",
    "Kinh phí chi thường xuyên của các sở.",
    "Sở Tài chính chi trả kinh phí.",
    "Ủy ban nhân dân tỉnh chỉ đạo các sở.",
    "Phát triển hạ tầng số của tỉnh.",
]
# (read, true) pairs in the way tesseract -l vie misreads: hỏi read as sắc, a hook added to i.
PAIRS = [("triến", "triển"), ("đối mới", "đổi mới"), ("chỉ", "chi"), ("đữ liệu", "dữ liệu")]


@pytest.fixture(scope="module")
def corrector() -> VieCorrector:
    lm = lm_from_sentences(SENTENCES)
    clean = [s.lower() for s in SENTENCES]
    noise = NoiseModel.fit([*PAIRS, *((s, s) for s in clean * 20)])
    channel = Channel(noise, ChannelSettings(**CHANNEL_SETTINGS))
    counts: dict[str, int] = {}
    for line in clean:
        for unit in line_units(line):
            if unit.isalpha():
                counts[unit] = counts.get(unit, 0) + 1
    for extra in ("triến", "đối", "chỉ", "dữ", "liệu", "tống"):  # real words with the other mark
        counts.setdefault(extra, 1)
    generator = CandidateGenerator(counts, channel)
    return VieCorrector(lm, generator, VieSettings(identity_prior=1.0))


def test_tone_swap_fixed_in_context(corrector: VieCorrector) -> None:
    assert corrector.correct_tokens("Kế hoạch phát triến thông tin".split()) == "Kế hoạch phát triển thông tin".split()
    assert corrector.correct_tokens("Các sở đối mới công tác".split()) == "Các sở đổi mới công tác".split()


def test_correct_word_stays(corrector: VieCorrector) -> None:
    for line in ("Thông tin đối ngoại được các sở quan tâm.", "Ủy ban nhân dân tỉnh chỉ đạo các sở."):
        assert corrector.correct_tokens(line.split()) == line.split()


def test_casing_follows_the_input(corrector: VieCorrector) -> None:
    assert corrector.correct_tokens("KẾ HOẠCH PHÁT TRIẾN".split()) == "KẾ HOẠCH PHÁT TRIỂN".split()
    assert corrector.correct_tokens("Phát Triến kinh tế".split()) == "Phát Triển kinh tế".split()


def test_a_word_read_in_the_wrong_case_follows_its_line(corrector: VieCorrector) -> None:
    # vie OCR reads a short lower-case word in capitals (sở → SỞ) and one-letter abbreviations b/c as b/C
    assert corrector.correct_tokens("Kinh phí của các SỞ.".split()) == "Kinh phí của các sở.".split()
    assert corrector.correct_tokens("Kinh phí của các SỞ Tài chính".split()) == "Kinh phí của các Sở Tài chính".split()
    assert corrector.correct_tokens("phát triển kinh tẾ".split()) == "phát triển kinh tế".split()
    assert corrector.correct_tokens("- Sở Tài chính (b/C);".split()) == "- Sở Tài chính (b/c);".split()


def test_a_misread_term_is_put_back(corrector: VieCorrector) -> None:
    assert corrector.correct_tokens("hạ tầng số (IơT) của tỉnh".split()) == "hạ tầng số (IoT) của tỉnh".split()


def test_capitals_that_belong_are_kept() -> None:
    def known(word: str) -> bool:
        return word in {"sở", "ai", "cp", "tế", "hđnd"}

    for line in (
        "trí tuệ nhân tạo (AI) và Nghị định CP",  # acronyms: no marked vowel
        "SỞ TÀI CHÍNH",  # a heading
        "SỞ Tài chính",  # a line's first word
        "của HĐND SỞ",  # next to another capitalised word
        "quản lý/SỞ iOS",  # not a one-letter pair; no Vietnamese mark
    ):
        assert case_repairs(line.split(), known) == line.split()


def test_numbers_codes_and_acronyms_copied(corrector: VieCorrector) -> None:
    tokens = "Kế hoạch số 12/KH-UBND năm 2019 của UBND tỉnh, 16 sở và TP.".split()
    assert corrector.correct_tokens(tokens) == tokens


def test_no_word_invented_or_dropped(corrector: VieCorrector) -> None:
    rng = random.Random(3)
    vocabulary = "phát triến triển đối đổi mới chi chỉ : - | 2019 12/KH-UBND Sở SỞ kinh tế (tỉnh), xã".split()
    for _ in range(200):
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(1, 12))]
        out = corrector.correct_tokens(tokens)
        assert len(out) == len(tokens)
        for before, after in zip(tokens, out, strict=True):
            # only marks change: the same letters, punctuation and digits in the same places
            same_shape = len(after) == len(before) and all(
                a.isalpha() == b.isalpha() for a, b in zip(after, before, strict=True)
            )
            assert after == before or same_shape
            assert not any(c.isdigit() for c in before) or after == before


def test_page_tokens_flagged_and_kept(corrector: VieCorrector) -> None:
    words = "Phát triến kinh tế".split()
    line = Line(tokens=[Token(text=w, source_text=w, ocr_confidence=0.95) for w in words])
    page = Page(number=1, source="ocr", lines=[line])
    corrected = correct_page(page, corrector).lines[0].tokens
    assert [t.text for t in corrected] == "Phát triển kinh tế".split()
    assert corrected[1].flags == ["restored", FLAG] and corrected[1].source_text == "triến"
    assert corrected[1].ocr_confidence == 0.95
    assert corrected[0] == line.tokens[0]


def test_pooled_marks_carry_a_tone_swap_to_other_vowels() -> None:
    # hỏi read as sắc seen on ổ only: ủ → ú gets the pooled rate, not the flat floor
    noise = NoiseModel.fit([("tố", "tổ")] * 3 + [("tổ thủ", "tổ thủ")] * 97)
    flat = vie_channel(noise, CHANNEL_SETTINGS)
    pooled = vie_channel(noise, {**CHANNEL_SETTINGS, "pooled_marks": True})
    assert isinstance(pooled, VieChannel) and not isinstance(flat, VieChannel)
    assert flat.logp("ủ", "ú") == pytest.approx(CHANNEL_SETTINGS["similar_floor"])
    assert pooled.logp("ủ", "ú") > flat.logp("ủ", "ú") + 1.0
    assert pooled.logp("ổ", "ố") == flat.logp("ổ", "ố")  # a change seen on the letter keeps its own rate
    assert pooled.logp("ủ", "x") == flat.logp("ủ", "x")  # another letter: the floors as before


@pytest.mark.skipif(not has_model(), reason="restore model not installed (models/restore)")
def test_convert_path_corrects_confident_vie_words() -> None:
    from pipeline.restore.api import get_restorer, restore_page

    words = "Công tác thông tin đối ngoại và phát triến kinh tế năm 2019".split()
    tokens = [Token(text=w, source_text=w, ocr_confidence=0.96) for w in words]
    page = Page(number=1, source="ocr", lines=[Line(tokens=tokens)])
    restorer = get_restorer()
    corrected = [t.text for t in restore_page(page, 0.6, restorer, correct=True).lines[0].tokens]
    assert corrected == "Công tác thông tin đối ngoại và phát triển kinh tế năm 2019".split()
    assert [t.text for t in restore_page(page, 0.6, restorer).lines[0].tokens] == words  # correct=False: as read
    assert Options().correct_vie  # on by default in convert
