"""The agency lexicon: folding, fuzzy matching on clean, garbled and English names, list
splitting, collectives, unknowns, templates, and the build script's pure parts."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.lexicon import THRESHOLD, default_lexicon, fold, parse_lexicon

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="module")
def lexicon():
    return default_lexicon()


def _build_script():
    spec = importlib.util.spec_from_file_location("build_agency_lexicon", ROOT / "scripts" / "build_agency_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fold_spells_out_abbreviations_and_maps_ocr_lookalikes() -> None:
    assert fold("Sở TT&TT") == fold("Sở Thông tin và Truyền thông") == "so thong tin va truyen thong"
    assert fold("S& Thong tin va Truyén thong") == "so thong tin va truyen thong"
    assert fold("Văn phòng UBND tỉnh") == "van phong uy ban nhan dan tinh"
    assert fold("thông tin d6i ngoại") == "thong tin doi ngoai"
    assert fold("Sé Ngoai vu") == fold("S Ngoai vu") == "so ngoai vu"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Sở Thông tin và Truyền thông", "Sở Thông tin và Truyền thông"),
        ("S& Thong tin va Truyén thong", "Sở Thông tin và Truyền thông"),
        ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
        ("Sở VH,TT&DL", "Sở Văn hóa, Thể thao và Du lịch"),
        ("Ban Tuyén gido Tinh Gy", "Ban Tuyên giáo Tỉnh ủy"),
        ("Vian phong UBND tinh", "Văn phòng Ủy ban nhân dân tỉnh"),
        ("UBND tinh", "Ủy ban nhân dân tỉnh"),
        ("Ban Quan 1y cac Khu cong nghiép Binh Duong", "Ban Quản lý các khu công nghiệp"),
        ("Sở Thông tin và Truyền thông tỉnh Bình Dương", "Sở Thông tin và Truyền thông"),
        ("Department of Information and Communication", "Sở Thông tin và Truyền thông"),
        ("The Office of the People's Committee of the province", "Văn phòng Ủy ban nhân dân tỉnh"),
        ("provincial Border Guard Command", "Bộ Chỉ huy Bộ đội Biên phòng tỉnh"),
        ("Ministry of Foreign Affairs", "Bộ Ngoại giao"),
    ],
)
def test_mentions_snap_to_their_canonical_name(lexicon, written: str, canonical: str) -> None:
    mention = lexicon.mention(written)
    assert (mention.canonical, mention.status) == (canonical, "matched")
    assert mention.score >= THRESHOLD
    assert mention.text == written


def test_head_word_tells_a_department_from_a_ministry(lexicon) -> None:
    assert lexicon.mention("Sở Y tế").canonical == "Sở Y tế"
    assert lexicon.mention("Bộ Y tế").canonical == "Bộ Y tế"
    assert lexicon.mention("B6 Y té").canonical == "Bộ Y tế"
    assert lexicon.mention("Sé Lao dong - Thuong binh va Xa hoi").canonical == "Sở Lao động - Thương binh và Xã hội"


def test_province_templates_are_expanded(lexicon) -> None:
    assert lexicon.mention("Bdo Binh Duong").canonical == "Báo Bình Dương"
    assert lexicon.mention("Pai Phat thanh va Truyén hinh Binh Duong").canonical == (
        "Đài Phát thanh và Truyền hình Bình Dương"
    )
    assert lexicon.mention("Công an thành phố Hà Nội").canonical == "Công an thành phố Hà Nội"
    assert lexicon.mention("Báo Thái Bình").kind == "press"
    assert lexicon.province("Binh Dwong") == "Bình Dương"
    assert lexicon.province("tỉnh Hoà Bình") == "Hòa Bình"  # new-style tone placement too
    assert lexicon.province("thong tin") is None


def test_split_keeps_names_that_contain_commas_and_va(lexicon) -> None:
    text = "Sở Văn hóa, Thể thao và Du lịch, Sở Thông tin và Truyền thông; Sở Kế hoạch và Đầu tư và Sở Nội vụ."
    mentions = lexicon.split(text, offset=100)
    assert [m.canonical for m in mentions] == [
        "Sở Văn hóa, Thể thao và Du lịch",
        "Sở Thông tin và Truyền thông",
        "Sở Kế hoạch và Đầu tư",
        "Sở Nội vụ",
    ]
    for m in mentions:  # spans are offsets into the text the caller holds
        assert text[m.span.start - 100 : m.span.end - 100] == m.text


def test_collective_phrases_are_collective_not_unknown(lexicon) -> None:
    text = "Sở Y tế, các sở, ban, ngành; UBND các huyện, thị xã, thành phố và các đơn vị liên quan."
    mentions = lexicon.split(text)
    assert [(m.canonical, m.status) for m in mentions] == [
        ("Sở Y tế", "matched"),
        ("Các sở, ban, ngành", "collective"),
        ("Ủy ban nhân dân cấp huyện", "matched"),
        ("Các cơ quan, đơn vị có liên quan", "collective"),
    ]
    # Recognised by its wording although no entry is close: a collective, not an unknown.
    assert lexicon.mention("Cac co quan thanh vién Hoi dong thi dua tinh").status == "collective"
    assert lexicon.mention("concerned agencies and units").canonical == "Các cơ quan, đơn vị có liên quan"


def test_unknown_mentions_keep_their_nearest_candidates(lexicon) -> None:
    mention = lexicon.mention("Tổng Công ty Becamex IDC")
    assert mention.status == "unknown" and mention.canonical is None
    assert 1 <= len(mention.candidates) <= 3
    assert all(c.score < THRESHOLD for c in mention.candidates)
    parts = lexicon.split("Sở Ngoại vụ, Tong Cong ty Thuong mai Xuat nhap khau Thanh Le - CTCP")
    assert [m.status for m in parts] == ["matched", "unknown"]


def test_leading_agencies_of_a_sentence(lexicon) -> None:
    mentions, end = lexicon.leading("S Tai chinh cin ctr vao nhu cau thyc té va kha ning")
    assert [m.canonical for m in mentions] == ["Sở Tài chính"] and end == len("S Tai chinh")
    sentence = "Sở Tư pháp, Ủy ban nhân dân các huyện, thành phố tổ chức tuyên truyền Luật mới"
    mentions, end = lexicon.leading(sentence)
    assert [m.canonical for m in mentions] == ["Sở Tư pháp", "Ủy ban nhân dân cấp huyện"]
    assert sentence[:end].endswith("thành phố")


def test_parse_lexicon_expands_templates_per_province() -> None:
    tsv = "\n".join(
        [
            "# comment",
            "canonical\tkind\tscope\taliases\tenglish\tcount\tsource",
            "Sở Nội vụ\tdepartment\tprovincial\tSNV\tDepartment of Home Affairs\t66\tcurated",
            "Báo {tên}\tpress\tprovincial\t\t{en} Newspaper\t0\ttemplate",
            "Công an {tỉnh}\tpolice\tprovincial\t\t\t0\ttemplate",
            "Thái Bình\tprovince\tprovincial\ttỉnh Thái Bình\tThai Binh province\t0\tadmin-units",
            "Hà Nội\tcity\tprovincial\tthành phố Hà Nội\tHa Noi city\t0\tadmin-units",
        ]
    )
    lexicon = parse_lexicon(tsv)
    names = {e.canonical for e in lexicon.entries}
    assert names == {"Sở Nội vụ", "Báo Thái Bình", "Báo Hà Nội", "Công an tỉnh Thái Bình", "Công an thành phố Hà Nội"}
    assert lexicon.mention("Thai Binh Newspaper").canonical == "Báo Thái Bình"
    assert [p.canonical for p in lexicon.provinces] == ["Thái Bình", "Hà Nội"]


def test_committed_lexicon(lexicon) -> None:
    assert len(lexicon.provinces) == 63
    assert len(lexicon.entries) > 1000
    kinds = Counter(e.kind for e in lexicon.entries)
    assert kinds["ministry"] >= 18 and kinds["department"] >= 40 and kinds["collective"] >= 5


def test_mining_finds_the_right_boundary_of_names() -> None:
    build = _build_script()
    verbs = ["hướng dẫn việc", "quy định về", "ban hành mẫu", "chủ trì thẩm định", "có trách nhiệm", "báo cáo"]
    lines = [f"Bộ Tài chính {v} nội dung {i}." for i in range(5) for v in verbs]
    lines += [f"Cục Kiểm tra văn bản {v}." for v in verbs] + [f"Cục Kiểm lâm {v}." for v in verbs]
    lines += [f"Theo đề nghị của Bộ Kế hoạch và Đầu tư {v}." for v in verbs]
    names = build.select_names(build.count_prefixes(lines), min_count=5)
    assert {"Bộ Tài chính", "Cục Kiểm tra văn bản", "Cục Kiểm lâm", "Bộ Kế hoạch và Đầu tư"} <= set(names)
    assert not any(n.startswith("Bộ Tài chính ") for n in names) and "Cục Kiểm" not in names


def test_build_reads_the_provinces_before_and_after_the_2025_merger() -> None:
    provinces = {p["canonical"]: p for p in _build_script().admin_provinces()}
    assert len(provinces) == 63
    in_force = [p for p in provinces.values() if not p["valid_to"]]
    assert len(in_force) == 34
    assert {"Hòa Bình", "Hà Nội", "Bà Rịa - Vũng Tàu"} <= set(provinces)
    assert provinces["Bắc Giang"]["valid_to"] == "2025-06-30" and provinces["Bắc Giang"]["successors"] == "Bắc Ninh"
    assert provinces["Bình Dương"]["successors"] == "Hồ Chí Minh" and not provinces["Hà Nội"]["valid_to"]


def test_cli_lexicon_lookup(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lexicon", "lookup", "S& Thong tin va Truyén thong", "Tong Cong ty Becamex IDC"]) == ExitCode.ok
    out = capsys.readouterr().out
    assert "→ Sở Thông tin và Truyền thông  [matched" in out
    assert "→ ?  [unknown" in out and "nearest:" in out
    assert main(["lexicon", "lookup", "--split", "--json", "Sở Nội vụ, Sở Tài chính"]) == ExitCode.ok
    assert capsys.readouterr().out.count('"status":"matched"') == 2


def test_a_merged_department_keeps_its_name_and_reports_its_successor() -> None:
    lexicon = default_lexicon()
    old = lexicon.mention("Sở Thông tin và Truyền thông", as_of="2019-04-22", province="Bình Dương")
    assert old.canonical == "Sở Thông tin và Truyền thông" and old.successors == ["Sở Khoa học và Công nghệ"]
    # A near miss snaps to it in 2019, but a 2025 plan never gets a body that no longer existed.
    assert lexicon.mention("Sở Thông tin Truyền thông", as_of="2019-04-22").canonical == "Sở Thông tin và Truyền thông"
    assert lexicon.mention("Sở Thông tin Truyền thông", as_of="2025-11-20").canonical is None
    assert lexicon.mention("Sở Khoa học và Công nghệ", as_of="2025-11-20").successors == []
    district = lexicon.mention("UBND các huyện, thành phố", as_of="2019-01-01")
    assert district.canonical == "Ủy ban nhân dân cấp huyện" and district.successors == ["Ủy ban nhân dân cấp xã"]


def test_a_merged_province_body_has_the_new_province_body_as_successor() -> None:
    mention = default_lexicon().mention("Ủy ban nhân dân tỉnh Bắc Giang", as_of="2020-05-01")
    assert mention.canonical == "Ủy ban nhân dân tỉnh Bắc Giang"
    assert mention.entity_id == "uy-ban-nhan-dan@tinhbacgiang"
    assert mention.successors == ["Ủy ban nhân dân tỉnh Bắc Ninh"]


def test_matching_never_snaps_to_another_province_or_city() -> None:
    lexicon = default_lexicon()
    issuer = lexicon.mention("UBND tinh Bac Nimh", as_of="2025-11-24", province="Bắc Ninh")
    assert issuer.canonical == "Ủy ban nhân dân tỉnh Bắc Ninh"
    for text in ("Công an thành phố", "Công an Thành phố", "Cong an thanh pho"):
        assert lexicon.mention(text, province="Cần Thơ").canonical == "Công an thành phố"
    assert lexicon.mention("Công an tỉnh", province="Cần Thơ").canonical == "Công an tỉnh"
    # A body of another place is found only when the mention names that place.
    assert lexicon.mention("Báo Bắc Ninh", province="Đồng Nai").canonical == "Báo Bắc Ninh"
    assert lexicon.mention("Báo Bắc Ninh tỉnh", province="Đồng Nai").canonical != "Báo Bắc Kạn"


def test_catch_alls_and_named_categories_are_told_apart() -> None:
    lexicon = default_lexicon()
    assert lexicon.mention("các cơ quan, đơn vị có liên quan").kind == "catch-all"
    assert lexicon.mention("các cơ quan, đơn vị, địa phương").canonical == "Các cơ quan, đơn vị, địa phương"
    assert lexicon.mention("UBND các xã, phường, đặc khu").canonical == "Ủy ban nhân dân cấp xã"


def test_a_name_without_its_level_is_read_as_the_plan_s_own_body(lexicon) -> None:
    # In a province's plan an unqualified body is the province's; in a centrally-run city's, the city's.
    assert lexicon.mention("Hội Nông dân", province="Nghệ An").canonical == "Hội Nông dân tỉnh"
    assert lexicon.mention("Hội Nông dân", province="Cần Thơ").canonical == "Hội Nông dân thành phố"
    assert lexicon.mention("Hội Nông dân").status == "unknown"  # no place, no level to read it with
    assert lexicon.mention("Sở Y tế", province="Nghệ An").canonical == "Sở Y tế"  # as written first
    assert lexicon.mention("Hội Cựu chiến binh các cấp", province="Nghệ An").status == "matched"
    merged = lexicon.mention("Báo và Phát thanh, Truyền hình tỉnh", province="Nghệ An")  # the 2025 merger
    assert merged.canonical == "Báo và Phát thanh, Truyền hình tỉnh"
