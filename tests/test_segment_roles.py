"""Roles written in prose (pipeline/segment/roles.py): pure, on sentences the project wrote."""

from __future__ import annotations

from pipeline.lexicon import default_lexicon
from pipeline.segment.roles import addressees, prose_roles, split_executors


def _names(mentions: list) -> list[str]:
    return [m.canonical for m in mentions]


def test_lead_then_partners_in_one_sentence() -> None:
    text = "Sở Y tế chủ trì, phối hợp với Sở Tài chính và Công an tỉnh tổ chức kiểm tra định kỳ."
    roles = prose_roles(text, 0, default_lexicon(), as_of="2025-11-20", province="Nghệ An")
    assert _names(roles.leads) == ["Sở Y tế"]
    assert _names(roles.partners) == ["Sở Tài chính", "Công an tỉnh"]
    assert {m.rule for m in (*roles.leads, *roles.partners)} == {"prose"}  # which reading found them
    assert text[roles.leads[0].span.start : roles.leads[0].span.end] == "Sở Y tế"


def test_giao_and_responsibility_name_the_lead() -> None:
    lexicon = default_lexicon()
    assert _names(prose_roles("Giao Sở Xây dựng hướng dẫn các xã triển khai.", 0, lexicon).leads) == ["Sở Xây dựng"]
    said = prose_roles("Sở Nội vụ có trách nhiệm tổng hợp kết quả.", 0, lexicon)
    assert _names(said.leads) == ["Sở Nội vụ"]


def test_a_sentence_without_a_known_body_names_nobody() -> None:
    roles = prose_roles("Các hoạt động cụ thể chủ trì bởi nhiều bên.", 0, default_lexicon())
    assert roles.leads == [] and roles.partners == []


def test_executor_field_with_one_marked_lead() -> None:
    value = "Sở Tài chính chủ trì tham mưu; Sở Nội vụ, Sở Tư pháp chủ động tổ chức triển khai"
    roles = split_executors(value, 0, default_lexicon())
    assert roles is not None
    assert _names(roles.leads) == ["Sở Tài chính"]
    assert _names(roles.partners) == ["Sở Nội vụ", "Sở Tư pháp"]
    assert {m.rule for m in (*roles.leads, *roles.partners)} == {"field"}
    assert split_executors("Sở Nội vụ, Sở Tư pháp", 0, default_lexicon()) is None


def test_a_clause_opening_an_item_is_no_agency() -> None:
    lexicon = default_lexicon()
    for line in (
        "2. Căn cứ Kế hoạch này, các sở, ban, ngành cấp tỉnh,\nỦy ban nhân dân các xã xây dựng kế hoạch.",
        "a) Các sở, ban, ngành, doanh nghiệp có trách nhiệm chủ động bố trí\nnguồn lực để thực hiện.",
    ):
        found = addressees(line.split(" ", 1)[1], 0, lexicon, province="Nghệ An")
        assert not [m.text for m in found if m.status == "unknown"], line
        assert "Các sở, ban, ngành" in _names(found)  # the bodies after the clause stay


def test_a_name_cut_by_a_line_break_is_read_whole() -> None:
    lexicon = default_lexicon()
    cut = "Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, Hội Liên hiệp\nPhụ nữ tỉnh và các đoàn thể phối hợp."
    assert "Hội Liên hiệp Phụ nữ tỉnh" in _names(addressees(cut, 0, lexicon, province="Nghệ An"))
    # A first line that ends with a known body is not carried on into the next.
    whole = "Sở Y tế, Sở Tài chính\nchủ trì kiểm tra các cơ sở."
    assert _names(addressees(whole, 0, lexicon, province="Nghệ An")) == ["Sở Y tế", "Sở Tài chính"]


def test_the_subject_after_an_adverbial_phrase_leads() -> None:
    text = "Trên cơ sở đề nghị của Sở Y tế, Sở Tài chính thẩm định và bố trí kinh phí thực hiện."
    roles = prose_roles(text, 0, default_lexicon(), province="Nghệ An", subject=True)
    assert _names(roles.leads) == ["Sở Tài chính"]
