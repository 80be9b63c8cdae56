"""Tests of pipeline.textenc: Unicode and legacy Vietnamese encodings, detected by evidence or refused."""

from __future__ import annotations

import random
import unicodedata

import pytest

from pipeline.errors import CorruptInputError, EmptyInputError, EncodingError
from pipeline.textenc import decode_text, encode_text, is_syllable

# Our own sentences in the administrative genre; together they hold all 67 lowercase letters.
SENTENCES = [
    (
        "Sở Tài nguyên và Môi trường chủ trì, phối hợp với các sở, ngành liên quan rà soát quỹ đất, "
        "báo cáo kết quả trước ngày 30 tháng 6."
    ),
    (
        "Giao Sở Kế hoạch và Đầu tư hướng dẫn các huyện, thị xã lập danh mục dự án ưu tiên, bảo đảm "
        "đúng tiến độ đã được phê duyệt."
    ),
    (
        "Kinh phí thực hiện được bố trí từ nguồn ngân sách địa phương và các nguồn vốn hợp pháp khác "
        "theo quy định hiện hành."
    ),
    (
        "Trong quá trình tổ chức thực hiện, nếu có khó khăn, vướng mắc, các đơn vị kịp thời phản ánh "
        "về Văn phòng để tổng hợp, báo cáo."
    ),
    (
        "Các phòng chuyên môn sẵn sàng hỗ trợ kỹ thuật, chẳng để tồn đọng hồ sơ; tỷ lệ giải quyết đúng "
        "hạn ở huyện lỵ phải đạt trên 95%."
    ),
    (
        "Trung tâm sẽ nâng cấp hệ thống, dỡ bỏ thủ tục rườm rà, cập nhật dữ liệu kèm theo và miễn phí "
        "cho trẻ em, người cao tuổi."
    ),
    (
        "Đối với những việc nhỏ, lãnh đạo chỉ đạo rõ ràng, xét duyệt nhẹ nhàng nhưng đầy đủ; kỳ họp tới "
        "sẽ đánh giá lĩnh vực đặc biệt khó."
    ),
    (
        "Các đơn vị sắp xếp bằng được nhân lực phù hợp, cũng đẩy mạnh ứng dụng công nghệ; ý kiến góp ý "
        "gửi về Sở Nội vụ trước ngày 15 tháng 7."
    ),
]
HEADING = "KẾ HOẠCH TRIỂN KHAI NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH GIAI ĐOẠN 2025 – 2030"
DOCUMENT = HEADING + "\r\n" + "\r\n".join(SENTENCES) + "\r\n"

_VOWELS = ["a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o", "o\u0302", "o\u031b", "u", "u\u031b", "y"]
_TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
LOWER = [unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES]
LOWER = [c for c in LOWER if not c.isascii()] + ["đ"]
LETTERS = LOWER + [c.upper() for c in LOWER]


def cp1258_precomposed(text: str) -> bytes:
    """Windows-1258 as Python's codec writes it: precomposed where the code page has the letter."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            out += encode_text(ch, "cp1258")
    return out


def test_inventory_has_134_letters_and_sentences_cover_the_lowercase_ones() -> None:
    assert len(set(LETTERS)) == 134 and all(len(c) == 1 for c in LETTERS)
    text = " ".join(SENTENCES).lower()
    assert [c for c in LOWER if c not in text] == []


@pytest.mark.parametrize("encoding", ["vni", "cp1258", "utf-8", "utf-16", "utf-32"])
def test_every_letter_round_trips_when_forced(encoding: str) -> None:
    for ch in LETTERS:
        assert decode_text(encode_text(ch, encoding), encoding=encoding)[0] == ch


def test_tcvn3_round_trips_lowercase_and_its_seven_capitals() -> None:
    letters = LOWER + list("ĂÂÊÔƠƯĐ")
    assert decode_text(encode_text(" ".join(letters), "tcvn3"), encoding="tcvn3")[0] == " ".join(letters)


def test_tables_give_the_well_known_byte_forms() -> None:
    assert encode_text("Việt Nam", "vni") == b"Vie\xe4t Nam"  # 'Vieät Nam'
    assert encode_text("Phương Đông", "vni") == b"Ph\xf6\xf4ng \xd1o\xe2ng"  # 'Phöông Ñoâng'
    assert encode_text("Việt Nam", "tcvn3") == b"Vi\xd6t Nam"
    assert encode_text("được", "tcvn3") == b"\xae\xad\xeec"
    assert encode_text("Việt", "cp1258") == b"Vi\xea\xf2t"  # ê + combining dot below


@pytest.mark.parametrize("encoding", ["cp1258", "vni", "tcvn3"])
@pytest.mark.parametrize("sentence", SENTENCES)
def test_each_sentence_is_detected(encoding: str, sentence: str) -> None:
    assert decode_text(encode_text(sentence, encoding), path="kh.txt") == (sentence, encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1258", "vni", "tcvn3"])
def test_document_with_heading_is_detected(encoding: str) -> None:
    assert decode_text(encode_text(DOCUMENT, encoding)) == (DOCUMENT, encoding)


def test_cp1258_with_precomposed_letters_is_detected() -> None:
    assert decode_text(cp1258_precomposed(DOCUMENT)) == (DOCUMENT, "cp1258")


def test_decomposed_utf8_comes_out_nfc() -> None:
    nfd = unicodedata.normalize("NFD", DOCUMENT)
    assert nfd != DOCUMENT
    assert decode_text(nfd.encode("utf-8")) == (DOCUMENT, "utf-8")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_nul_bytes(codec: str) -> None:
    assert decode_text(DOCUMENT.encode(codec)) == (DOCUMENT, "utf-16")


def test_forced_encodings_and_aliases() -> None:
    data = encode_text(SENTENCES[2], "vni")
    assert decode_text(data, encoding="VNI") == (SENTENCES[2], "vni")
    assert decode_text(encode_text(SENTENCES[2], "cp1258"), encoding="windows-1258")[1] == "cp1258"
    assert decode_text(SENTENCES[2].encode("utf-16-le"), encoding="utf-16")[0] == SENTENCES[2]
    with pytest.raises(EncodingError, match=r"ke-hoach\.txt"):
        decode_text(data, path="ke-hoach.txt", encoding="utf-8")
    with pytest.raises(EncodingError, match="unknown encoding"):
        decode_text(data, encoding="koi8-r")


def test_tcvn3_capitals_without_codes_are_a_known_limit() -> None:
    # .VnTimeH headings store capitals as lowercase codes: all-caps words are restored, but a lone
    # capital letter with a tone, or a title-case word that starts with one, cannot be told apart.
    assert decode_text(encode_text("BÁO CÁO TỔNG KẾT", "tcvn3"))[0] == "BÁO CÁO TỔNG KẾT"
    assert decode_text(encode_text("Ủy ban nhân dân tỉnh", "tcvn3"))[0] == "ủy ban nhân dân tỉnh"
    assert decode_text(encode_text("TỪ", "tcvn3"), encoding="tcvn3")[0] == "Từ"


def test_ambiguous_short_text_is_refused_not_guessed() -> None:
    data = b"c\xf4 t\xf4i"  # cp1258 'cô tôi', but also VNI 'cơ tơi' and TCVN3 'cụ tụi'
    with pytest.raises(EncodingError, match=r"cp1258.*vni.*tcvn3"):
        decode_text(data, path="short.txt")


def test_ascii_with_windows_quotes_only_is_cp1258() -> None:
    assert decode_text(b"Report \x93final\x94 2024") == ("Report \u201cfinal\u201d 2024", "cp1258")


def test_latin1_bytes_that_are_no_vietnamese_are_refused_with_the_path() -> None:
    rng = random.Random(7)
    junk = b" ".join(bytes(rng.randrange(0xC0, 0x100) for _ in range(rng.randrange(3, 9))) for _ in range(50))
    for data in (junk, "Le préfet a signé l'arrêté relatif à la sécurité des élèves.".encode("latin-1")):
        with pytest.raises(EncodingError) as info:
            decode_text(data, path="archive/hop-dong.txt")
        assert "archive/hop-dong.txt" in str(info.value) and info.value.code == "E105"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        random.Random(1).randbytes(512),
        b"abc\x01\x02\x03\x04def\x05\x06\x07",
    ],
)
def test_binary_junk_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptInputError, match="binary data, not text"):
        decode_text(data, path="scan.bin")


@pytest.mark.parametrize("data", [b"", b"  \r\n\t ", b"\xef\xbb\xbf", " \n".encode("utf-16")])
def test_empty_or_whitespace_only_is_empty(data: bytes) -> None:
    with pytest.raises(EmptyInputError):
        decode_text(data, path="empty.txt")


@pytest.mark.parametrize("word", ["nghiêng", "quyết", "khuỷu", "giường", "thuở", "oanh", "được", "ủy"])
def test_valid_syllables(word: str) -> None:
    assert is_syllable(word) and is_syllable(word.upper())


@pytest.mark.parametrize("word", ["viêt", "hoà̀", "fáx", "ăa", "tơá", "âu̇", "Vieät", "ñaàu", "\ufffdan"])
def test_invalid_syllables(word: str) -> None:
    assert not is_syllable(word)
