"""Build corpora/agencies.tsv, the agency lexicon, reproducibly.

    .venv/bin/python scripts/build_agency_lexicon.py [--corpora ../shared/corpora] [-o corpora/agencies.tsv]

Three sources, merged in this order:
1. a curated core written here: the ministries, provincial departments, boards, press, police,
   party bodies and mass organisations that provincial plans name, with their abbreviations and
   English names, plus collective phrases (*các sở, ban, ngành* …) and templates for the
   province-specific names (*Báo {tên}*, *Công an {tỉnh}*);
2. the provinces and centrally-run cities before and after the 2025 merger (vietnamadminunits), which the
   templates are expanded with at load time;
3. names mined from the legal and admin corpora: a head word (*Bộ, Sở, Cục, Tổng cục, Ban,
   Viện, Hội …*) followed by a capitalised word, extended token by token while the corpus says
   the name goes on (see `select_names`). Mined names carry their corpus count.

The runtime reads only the TSV (pipeline/lexicon.py); the corpora are never needed again.
"""
# ruff: noqa: E501  (the curated tables below are data, one agency per line)

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.vietnamese import normalize, strip_diacritics  # noqa: E402

# canonical | kind | scope | aliases (;) | English names (;). Scope is where the body sits:
# central, provincial, district, or empty for collectives. {tỉnh} expands to "tỉnh Thái Bình"
# / "thành phố Hà Nội", {tên} to the bare name "Thái Bình".
CURATED = """
Chính phủ | government | central | | Government; the Government
Thủ tướng Chính phủ | government | central | | Prime Minister
Văn phòng Chính phủ | office | central | VPCP | Government Office
Quốc hội | government | central | | National Assembly
Bộ Chính trị | party body | central | | Politburo
Ban Bí thư | party body | central | | Secretariat of the Party Central Committee
Ban Tuyên giáo Trung ương | party body | central | | Central Propaganda Department; Central Commission for Propaganda and Education
Ban Đối ngoại Trung ương | party body | central | | Central Foreign Relations Commission
Bộ Quốc phòng | ministry | central | BQP | Ministry of National Defence; Ministry of Defence
Bộ Công an | ministry | central | BCA | Ministry of Public Security
Bộ Ngoại giao | ministry | central | BNG | Ministry of Foreign Affairs
Bộ Nội vụ | ministry | central | BNV | Ministry of Home Affairs
Bộ Tư pháp | ministry | central | BTP | Ministry of Justice
Bộ Kế hoạch và Đầu tư | ministry | central | Bộ KH&ĐT; Bộ KHĐT | Ministry of Planning and Investment
Bộ Tài chính | ministry | central | BTC | Ministry of Finance
Bộ Công Thương | ministry | central | BCT | Ministry of Industry and Trade
Bộ Nông nghiệp và Phát triển nông thôn | ministry | central | Bộ NN&PTNT; Bộ NNPTNT | Ministry of Agriculture and Rural Development
Bộ Nông nghiệp và Môi trường | ministry | central | Bộ NN&MT | Ministry of Agriculture and Environment
Bộ Giao thông vận tải | ministry | central | Bộ GTVT | Ministry of Transport
Bộ Xây dựng | ministry | central | BXD | Ministry of Construction
Bộ Tài nguyên và Môi trường | ministry | central | Bộ TN&MT; Bộ TNMT | Ministry of Natural Resources and Environment
Bộ Thông tin và Truyền thông | ministry | central | Bộ TT&TT; Bộ TTTT; BTTTT | Ministry of Information and Communications; Ministry of Information and Communication
Bộ Lao động - Thương binh và Xã hội | ministry | central | Bộ LĐ-TB&XH; Bộ LĐTBXH | Ministry of Labour, Invalids and Social Affairs; Ministry of Labor, Invalids and Social Affairs
Bộ Văn hóa, Thể thao và Du lịch | ministry | central | Bộ VH,TT&DL; Bộ VHTTDL | Ministry of Culture, Sports and Tourism
Bộ Khoa học và Công nghệ | ministry | central | Bộ KH&CN; Bộ KHCN | Ministry of Science and Technology
Bộ Giáo dục và Đào tạo | ministry | central | Bộ GD&ĐT; Bộ GDĐT | Ministry of Education and Training
Bộ Y tế | ministry | central | BYT | Ministry of Health
Bộ Dân tộc và Tôn giáo | ministry | central | | Ministry of Ethnic and Religious Affairs
Ủy ban Dân tộc | ministry | central | UBDT | Committee for Ethnic Minority Affairs
Thanh tra Chính phủ | ministry | central | TTCP | Government Inspectorate
Ngân hàng Nhà nước Việt Nam | ministry | central | NHNN | State Bank of Vietnam
Kiểm toán Nhà nước | government | central | KTNN | State Audit Office
Tòa án nhân dân tối cao | government | central | TANDTC | Supreme People's Court
Viện Kiểm sát nhân dân tối cao | government | central | VKSNDTC | Supreme People's Procuracy
Bảo hiểm xã hội Việt Nam | government | central | BHXH Việt Nam | Vietnam Social Security
Kho bạc Nhà nước | department | central | KBNN | State Treasury
Tổng cục Thống kê | department | central | | General Statistics Office
Tổng cục Thuế | department | central | | General Department of Taxation
Tổng cục Hải quan | department | central | | General Department of Customs
Cục Văn thư và Lưu trữ nhà nước | department | central | | State Records and Archives Management Department
Cục Thông tin đối ngoại | department | central | | Department of External Information Service
Cục Báo chí | department | central | | Press Department
Ủy ban Biên giới quốc gia | board | central | | National Boundary Commission
Thông tấn xã Việt Nam | press | central | TTXVN | Vietnam News Agency
Đài Truyền hình Việt Nam | press | central | VTV | Vietnam Television
Đài Tiếng nói Việt Nam | press | central | VOV | Voice of Vietnam
Báo Nhân Dân | press | central | | Nhan Dan Newspaper
Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam | association | central | | Central Committee of the Vietnam Fatherland Front
Liên hiệp các tổ chức hữu nghị Việt Nam | association | central | | Vietnam Union of Friendship Organizations
Ủy ban nhân dân tỉnh | people's committee | provincial | UBND tỉnh | Provincial People's Committee; People's Committee of the province; provincial People's Committees
Hội đồng nhân dân tỉnh | people's council | provincial | HĐND tỉnh; Hội đồng nhân dân cấp tỉnh | Provincial People's Council
Văn phòng Ủy ban nhân dân tỉnh | office | provincial | Văn phòng UBND tỉnh; VP UBND tỉnh | Office of the Provincial People's Committee; Office of the People's Committee of the province
Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh | office | provincial | Văn phòng Đoàn ĐBQH và HĐND tỉnh | Office of the National Assembly Delegation and People's Council
Tỉnh ủy | party body | provincial | | Provincial Party Committee
Ban Thường vụ Tỉnh ủy | party body | provincial | BTV Tỉnh ủy | Standing Board of the Provincial Party Committee
Văn phòng Tỉnh ủy | party body | provincial | | Office of the Provincial Party Committee
Ban Tuyên giáo Tỉnh ủy | party body | provincial | | Propaganda Department of the Provincial Party Committee; provincial Commission for Propaganda; Provincial Party Committee's Propaganda Department
Ban Tuyên giáo và Dân vận Tỉnh ủy | party body | provincial | | Propaganda and Mass Mobilization Commission of the Provincial Party Committee
Ban Dân vận Tỉnh ủy | party body | provincial | | Mass Mobilization Commission of the Provincial Party Committee
Ban Tổ chức Tỉnh ủy | party body | provincial | | Organization Commission of the Provincial Party Committee
Ban Nội chính Tỉnh ủy | party body | provincial | | Internal Affairs Commission of the Provincial Party Committee
Ủy ban Kiểm tra Tỉnh ủy | party body | provincial | | Inspection Commission of the Provincial Party Committee
Sở Nội vụ | department | provincial | SNV | Department of Home Affairs
Sở Tư pháp | department | provincial | | Department of Justice
Sở Kế hoạch và Đầu tư | department | provincial | Sở KH&ĐT; Sở KHĐT | Department of Planning and Investment
Sở Tài chính | department | provincial | | Department of Finance; provincial Finance Service
Sở Công Thương | department | provincial | | Department of Industry and Trade
Sở Nông nghiệp và Phát triển nông thôn | department | provincial | Sở NN&PTNT; Sở NNPTNT | Department of Agriculture and Rural Development
Sở Nông nghiệp và Môi trường | department | provincial | Sở NN&MT | Department of Agriculture and Environment
Sở Giao thông vận tải | department | provincial | Sở GTVT | Department of Transport
Sở Xây dựng | department | provincial | | Department of Construction
Sở Tài nguyên và Môi trường | department | provincial | Sở TN&MT; Sở TNMT | Department of Natural Resources and Environment
Sở Thông tin và Truyền thông | department | provincial | Sở TT&TT; Sở TTTT | Department of Information and Communications; Department of Information and Communication; Information and Communication Department
Sở Lao động - Thương binh và Xã hội | department | provincial | Sở LĐ-TB&XH; Sở LĐTBXH | Department of Labour, Invalids and Social Affairs
Sở Văn hóa, Thể thao và Du lịch | department | provincial | Sở VH,TT&DL; Sở VHTTDL | Department of Culture, Sports and Tourism
Sở Văn hóa và Thể thao | department | provincial | Sở VH&TT | Department of Culture and Sports
Sở Du lịch | department | provincial | | Department of Tourism
Sở Khoa học và Công nghệ | department | provincial | Sở KH&CN; Sở KHCN | Department of Science and Technology
Sở Giáo dục và Đào tạo | department | provincial | Sở GD&ĐT; Sở GDĐT | Department of Education and Training
Sở Y tế | department | provincial | | Department of Health
Sở Ngoại vụ | department | provincial | | Department of Foreign Affairs; External Affairs Department; Department of External Affairs
Sở Dân tộc và Tôn giáo | department | provincial | | Department of Ethnic and Religious Affairs
Thanh tra tỉnh | department | provincial | | Provincial Inspectorate
Ban Dân tộc tỉnh | board | provincial | | Provincial Committee for Ethnic Affairs
Ban Chỉ đạo công tác thông tin đối ngoại tỉnh | board | provincial | BCĐ công tác thông tin đối ngoại tỉnh; Ban Chỉ đạo thông tin đối ngoại tỉnh; Ban Chỉ đạo công tác thông tin đối ngoại | Provincial Steering Committee for External Information; Steering Committee for External Information Work; Steering Committee for Information Work externally
Ban Quản lý các khu công nghiệp | board | provincial | BQL các KCN; Ban Quản lý các khu công nghiệp tỉnh; Ban Quản lý các KCN | Management Board of industrial zones; Management Board of Industrial Parks; Industrial Zones Management Board
Ban Quản lý Khu kinh tế | board | provincial | BQL KKT; Ban Quản lý Khu kinh tế tỉnh | Economic Zone Management Board
Công an tỉnh | police | provincial | CA tỉnh | Provincial Police; Provincial Public Security
Bộ Chỉ huy Quân sự tỉnh | military | provincial | BCHQS tỉnh; Bộ CHQS tỉnh | Provincial Military Command
Bộ Chỉ huy Bộ đội Biên phòng tỉnh | military | provincial | BĐBP tỉnh; Bộ Chỉ huy BĐBP tỉnh; Bộ đội Biên phòng tỉnh | Provincial Border Guard Command; provincial Border Guard
Đài Phát thanh và Truyền hình tỉnh | press | provincial | Đài PT-TH tỉnh; Đài PTTH tỉnh | Provincial Radio and Television Station
Báo và Phát thanh, Truyền hình tỉnh | press | provincial | Báo và PT-TH tỉnh | Provincial Newspaper and Radio-Television (the newspaper and the station merged, 2025)
Cổng Thông tin điện tử tỉnh | press | provincial | Cổng TTĐT tỉnh; Cổng thông tin điện tử của tỉnh | Provincial Portal; provincial electronic information portal; provincial web portal
Hội Nhà báo tỉnh | association | provincial | | Provincial Journalists' Association
Phân xã Thông tấn xã Việt Nam | press | provincial | Phân xã TTXVN | Vietnam News Agency bureau
Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh | association | provincial | Ủy ban MTTQ Việt Nam tỉnh; UBMTTQ Việt Nam tỉnh; Ủy ban MTTQ tỉnh | Vietnam Fatherland Front Committee of the province
Tỉnh đoàn | association | provincial | Tỉnh Đoàn; Tỉnh đoàn Thanh niên | Provincial Youth Union
Hội Liên hiệp Phụ nữ tỉnh | association | provincial | Hội LHPN tỉnh | Provincial Women's Union
Hội Nông dân tỉnh | association | provincial | | Provincial Farmers' Association
Hội Cựu chiến binh tỉnh | association | provincial | Hội CCB tỉnh | Provincial Veterans' Association
Liên đoàn Lao động tỉnh | association | provincial | LĐLĐ tỉnh | Provincial Labour Federation
Liên hiệp các tổ chức hữu nghị tỉnh | association | provincial | Liên hiệp các tổ chức hữu nghị | Provincial Union of Friendship Organizations
Hội Văn học Nghệ thuật tỉnh | association | provincial | Hội VHNT tỉnh; Hội Văn học - Nghệ thuật tỉnh | Provincial Literature and Arts Association
Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh | association | provincial | | Provincial Union of Science and Technology Associations
Trung tâm Lưu trữ lịch sử tỉnh | unit | provincial | | Provincial Historical Archives Centre
Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch tỉnh | unit | provincial | | Investment, Trade and Tourism Promotion Centre
Trung tâm Phục vụ hành chính công tỉnh | unit | provincial | Trung tâm Hành chính công tỉnh | Public Administration Service Centre
Cục Thuế tỉnh | department | provincial | | Provincial Tax Department
Cục Hải quan tỉnh | department | provincial | | Provincial Customs Department
Cục Thống kê tỉnh | department | provincial | | Provincial Statistics Office
Kho bạc Nhà nước tỉnh | department | provincial | | Provincial State Treasury
Bảo hiểm xã hội tỉnh | department | provincial | BHXH tỉnh | Provincial Social Security
Ngân hàng Nhà nước chi nhánh tỉnh | department | provincial | | State Bank provincial branch
Tòa án nhân dân tỉnh | government | provincial | TAND tỉnh | Provincial People's Court
Viện Kiểm sát nhân dân tỉnh | government | provincial | VKSND tỉnh | Provincial People's Procuracy
Ủy ban nhân dân cấp huyện | people's committee | district | Ủy ban nhân dân các huyện, thị xã, thành phố; Ủy ban nhân dân huyện, thị xã, thành phố; Ủy ban nhân dân các huyện, thành phố; Ủy ban nhân dân huyện, thành phố; UBND các huyện, thị xã, thành phố; UBND các huyện, thành phố; UBND huyện, thành phố; UBND cấp huyện | People's Committees of districts and cities; People's Committees of districts, towns and cities; district People's Committees; People's Committees of rural districts and towns
Ủy ban nhân dân cấp xã | people's committee | district | Ủy ban nhân dân các xã, phường, thị trấn; UBND các xã, phường, thị trấn; UBND cấp xã; Ủy ban nhân dân các xã, phường, đặc khu; UBND các xã, phường, đặc khu; Ủy ban nhân dân xã, phường, đặc khu; UBND xã, phường, đặc khu; Ủy ban nhân dân các xã, phường; UBND các xã, phường; Ủy ban nhân dân xã, phường; UBND xã, phường; các xã, phường, đặc khu; các xã, phường | commune People's Committees; People's Committees of communes, wards and townships; People's Committees of communes and wards
Phòng Văn hóa và Thông tin | department | district | Phòng Văn hóa - Thông tin; Phòng Văn hóa, Thông tin | district Culture and Information Division
Đài Truyền thanh cấp huyện | press | district | Trung tâm Văn hóa - Thể thao và Truyền thanh cấp huyện | district radio station
Đài Truyền thanh cấp xã | press | district | | commune radio station
Các sở, ban, ngành | collective | | các sở, ban, ngành tỉnh; sở, ngành có liên quan; sở, ngành liên quan; các sở, ngành liên quan; các sở, ngành có liên quan; các sở, ngành, đơn vị có liên quan; các sở, ban ngành; các sở ban ngành; các sở, ban, ngành thuộc Ủy ban nhân dân tỉnh; các sở, ban, ngành thuộc UBND tỉnh; các sở, ngành; các sở, ban, ngành có liên quan; một số sở, ban, ngành có liên quan; các sở, ban, ngành cấp tỉnh | departments, branches; departments and branches; departments, agencies and sectors; concerned departments and branches; functional departments
Các sở, ban, ngành, đoàn thể | collective | | các sở, ban, ngành, đoàn thể tỉnh; các sở, ban, ngành, đoàn thể của tỉnh; các sở, ban, ngành và đoàn thể | departments, branches, unions; departments, committees, branches and mass organizations
Các cơ quan, đơn vị có liên quan | catch-all | | các cơ quan, đơn vị liên quan; các đơn vị có liên quan; các đơn vị liên quan; các cơ quan có liên quan; các cơ quan liên quan; cơ quan, đơn vị liên quan; các cơ quan, tổ chức có liên quan; một số cơ quan, đơn vị có liên quan; một số cơ quan, đơn vị liên quan; các tổ chức, cá nhân có liên quan; các cơ quan, đơn vị, tổ chức có liên quan | concerned agencies and units; relevant agencies and units; concerned agencies; relevant agencies; agencies and units concerned; related agencies
Các cơ quan, đơn vị, địa phương | collective | | các cơ quan, đơn vị, địa phương có liên quan; các cơ quan, đơn vị và địa phương | agencies, units and localities
Các cơ quan, đơn vị | collective | | các cơ quan và đơn vị | agencies and units
Các cơ quan báo chí | collective | | các cơ quan báo chí của tỉnh; các cơ quan báo chí trong tỉnh; các cơ quan báo chí trên địa bàn tỉnh; cơ quan báo chí; các cơ quan thông tấn, báo chí | press agencies; press agencies in the province; the press
Các cơ quan thành viên Ban Chỉ đạo | collective | | các cơ quan là thành viên Ban Chỉ đạo; các thành viên Ban Chỉ đạo; các cơ quan thành viên | member agencies of the Steering Committee
Các địa phương | catch-all | | các địa phương trong tỉnh; các địa phương có liên quan; địa phương | localities; concerned localities
Các tổ chức chính trị - xã hội | collective | | các đoàn thể; các tổ chức chính trị - xã hội tỉnh; các đoàn thể chính trị - xã hội | socio-political organizations; mass organizations
Các cơ quan Trung ương | collective | | các cơ quan Trung ương đóng trên địa bàn tỉnh | central agencies
Các bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ | collective | | các bộ, cơ quan ngang bộ; các bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ | ministries, ministerial-level agencies and Government agencies
Các bộ, ngành | collective | | các bộ, ngành liên quan; các bộ, ngành có liên quan; các bộ, ngành chức năng; các bộ ngành | ministries and branches
Ủy ban nhân dân cấp tỉnh | collective | | Ủy ban nhân dân các tỉnh, thành phố trực thuộc Trung ương; UBND các tỉnh, thành phố trực thuộc Trung ương; Ủy ban nhân dân các tỉnh, thành phố; UBND các tỉnh, thành phố; UBND các tỉnh; Ủy ban nhân dân các tỉnh; UBND cấp tỉnh | provincial People's Committees
Các doanh nghiệp | collective | | các doanh nghiệp trên địa bàn tỉnh; doanh nghiệp | enterprises
"""

# Province-specific names, one per province and centrally-run city.
TEMPLATES = """
Ủy ban nhân dân {tỉnh} | people's committee | provincial | UBND {tỉnh} | People's Committee of {en} province; {en} Provincial People's Committee
Hội đồng nhân dân {tỉnh} | people's council | provincial | HĐND {tỉnh} | People's Council of {en} province
Tỉnh ủy {tên} | party body | provincial | | {en} Provincial Party Committee
Công an {tỉnh} | police | provincial | | {en} Provincial Police
Bộ Chỉ huy Quân sự {tỉnh} | military | provincial | | {en} Provincial Military Command
Bộ Chỉ huy Bộ đội Biên phòng {tỉnh} | military | provincial | | {en} Border Guard Command
Báo {tên} | press | provincial | | {en} Newspaper
Đài Phát thanh và Truyền hình {tên} | press | provincial | Đài PT-TH {tên}; Đài PTTH {tên} | {en} Radio and Television Station
Báo và Phát thanh, Truyền hình {tên} | press | provincial | Báo và PT-TH {tên} | {en} Newspaper and Radio-Television
Cổng Thông tin điện tử {tỉnh} | press | provincial | Cổng TTĐT {tỉnh} | {en} Provincial Portal; {en} electronic information portal
Hội Nhà báo {tỉnh} | association | provincial | | {en} Journalists' Association
Hội Văn học Nghệ thuật {tỉnh} | association | provincial | Hội Văn học Nghệ thuật {tên} | {en} Literature and Arts Association
Phân xã Thông tấn xã Việt Nam tại {tên} | press | provincial | | Vietnam News Agency bureau in {en}
Viễn thông {tên} | enterprise | provincial | VNPT {tên} | VNPT {en}
Bưu điện {tỉnh} | enterprise | provincial | | {en} Post Office
"""

KINDS = {
    "ministry", "department", "board", "office", "press", "police", "military", "people's committee",
    "people's council", "party body", "government", "association", "unit", "enterprise", "collective",
    "catch-all", "province", "city", "other",
}  # fmt: skip

# Head words of agency names in running text; the next word must be capitalised.
HEADS: dict[str, tuple[str, str]] = {
    "Bộ": ("ministry", "central"),
    "Sở": ("department", "provincial"),
    "Ban": ("board", ""),
    "Cục": ("department", "central"),
    "Tổng cục": ("department", "central"),
    "Chi cục": ("department", "provincial"),
    "Vụ": ("department", "central"),
    "Ủy ban": ("board", ""),
    "Văn phòng": ("office", ""),
    "Thanh tra": ("department", ""),
    "Kho bạc": ("department", ""),
    "Ngân hàng": ("enterprise", ""),
    "Tổng công ty": ("enterprise", ""),
    "Tập đoàn": ("enterprise", ""),
    "Báo": ("press", ""),
    "Đài": ("press", ""),
    "Thông tấn xã": ("press", "central"),
    "Công an": ("police", ""),
    "Viện": ("unit", ""),
    "Học viện": ("unit", "central"),
    "Trung tâm": ("unit", ""),
    "Hội": ("association", ""),
    "Liên hiệp": ("association", ""),
    "Liên đoàn": ("association", ""),
    "Mặt trận": ("association", ""),
    "Kiểm toán": ("government", "central"),
}
# Capitalised words after a head that make a document or an event, not a body.
NOT_BODIES = {"Bộ Luật", "Bộ Quy", "Bộ Tiêu", "Bộ Chỉ số", "Ban Hành", "Hội Nghị", "Báo Cáo", "Viện Dẫn"}
SEPARATORS = {",", "và", "-", "&"}
# A mined name does not end on these words (they continue a sentence, not a name).
BAD_ENDS = {
    "của", "các", "về", "theo", "tại", "trong", "được", "có", "là", "với", "cho", "để", "thuộc", "hoặc",
    "và", "những", "này", "đó", "khi", "từ", "do", "trên", "ở", "đã", "sẽ", "phải", "không", "nhân", "cấp",
}  # fmt: skip
# Words that never continue a name: the sentence goes on after them.
STOPS = {"hoặc", "ở", "nơi", "khi", "để", "theo", "đối", "trong", "đã", "phải", "thì", "được", "là", "này", "nếu"}
TITLES = {"Chánh", "Chủ", "Giám", "Thủ", "Trưởng", "Phó", "Tổng", "Ủy", "Văn"}
MAX_AFTER = 10

_HEAD_RE = re.compile(r"(?<![^\W\d_])(" + "|".join(sorted(HEADS, key=len, reverse=True)) + r")\s+(?=[^\W\d_])")
_TOKEN_RE = re.compile(r"[^\W\d_]+|[,&-]|\S")
_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-"})


def parse_table(text: str) -> list[dict[str, str]]:
    rows = []
    for line in text.strip().splitlines():
        canonical, kind, scope, aliases, english = (part.strip() for part in line.split("|"))
        assert kind in KINDS, line
        rows.append({"canonical": canonical, "kind": kind, "scope": scope, "aliases": aliases, "english": english})
    return rows


MERGER_DAY = "2025-07-01"  # the 34 provinces and cities, without districts (Nghị quyết 202/2025/QH15)
HISTORY = ROOT / "corpora" / "agency_history.tsv"


def _slug(name: str) -> str:
    name = re.sub(r"\{[^}]*\}", "", name)  # template slots: Báo {tên} → bao
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(normalize(name)).lower().replace("đ", "d")).strip("-")


def admin_provinces() -> list[dict[str, str]]:
    """The 63 provinces and centrally-run cities before 1 July 2025 and the 34 after, with the
    merger map, from the vietnamadminunits package (MIT). A name that goes on after the merger
    is one entity; a name that ended has the unit it merged into as successor."""
    import json
    from importlib.resources import files

    data = files("vietnamadminunits") / "data"
    legacy = json.loads((data / "parser_legacy.json").read_text(encoding="utf-8"))["DICT_PROVINCE"]
    current = json.loads((data / "parser_from_2025.json").read_text(encoding="utf-8"))["DICT_PROVINCE"]
    merged_into = {
        old: new
        for new, olds in json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))["DICT_PROVINCE"].items()
        for old in olds
    }
    rows = []
    for key in sorted(set(legacy) | set(current), key=lambda k: (legacy.get(k) or current[k])["provinceCode"]):
        info = current.get(key) or legacy[key]
        bare = normalize(info["provinceShort"])
        city = info["province"].startswith("Thành phố")
        ended = key not in current
        rows.append({
            "canonical": bare,
            "kind": "city" if city else "province",
            "scope": "provincial",
            "aliases": f"{'thành phố' if city else 'tỉnh'} {bare}",
            "english": f"{strip_diacritics(bare)} {'city' if city else 'province'}",
            "id": key,
            "valid_from": "" if key in legacy else MERGER_DAY,
            "valid_to": "2025-06-30" if ended else "",
            "successors": normalize(current[merged_into[key]]["provinceShort"]) if ended else "",
        })  # fmt: skip
    return rows


def read_history(path: Path = HISTORY) -> dict[str, dict[str, str]]:
    """canonical → valid_from, valid_to, successors (corpora/agency_history.tsv)."""
    history = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.startswith("canonical\t") or not line.strip():
            continue
        canonical, valid_from, valid_to, successors, _basis = (line.split("\t") + [""] * 5)[:5]
        history[canonical] = {"valid_from": valid_from, "valid_to": valid_to, "successors": successors}
    return history


# A provincial body's counterpart in a centrally-run city (Công an tỉnh → Công an thành phố):
# generated, so that a city's bodies never snap to a province's or to another city's.
_CITY_FORMS = ((re.compile(r"\btỉnh\b"), "thành phố"), (re.compile(r"\bTỉnh ủy\b"), "Thành ủy"))


def city_counterparts(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        if row["scope"] != "provincial" or not any(rx.search(row["canonical"]) for rx, _ in _CITY_FORMS):
            continue

        def city(name: str) -> str:
            for rx, word in _CITY_FORMS:
                name = rx.sub(word, name)
            return name

        aliases = "; ".join(city(a.strip()) for a in row["aliases"].split(";") if a.strip())
        english = "; ".join(e.strip().replace("Provincial", "City").replace("provincial", "city")
                            .replace("Province", "City").replace("province", "city")
                            for e in row["english"].split(";") if e.strip())  # fmt: skip
        out.append(
            {**row, "canonical": city(row["canonical"]), "aliases": aliases, "english": english, "source": "city form"}
        )
    return out


def with_ids(rows: list[dict[str, str]], history: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """Give every row an id (provinces keep vietnamadminunits' key) and its validity columns."""
    for row in rows:
        row.setdefault("id", _slug(row["canonical"]))
        for column in ("valid_from", "valid_to", "successors"):
            row.setdefault(column, history.get(row["canonical"], {}).get(column, ""))
    return rows


def read_lines(paths: Iterable[Path]) -> Iterator[str]:
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from handle


def candidate_tokens(line: str) -> Iterator[tuple[str, ...]]:
    """For each head word in the line: (head, next tokens…), cut at other punctuation or a new name."""
    for match in _HEAD_RE.finditer(line):
        head = match.group(1)
        window = normalize(line[match.end() : match.end() + 160]).translate(_DASHES)
        tokens: list[str] = []
        for token in _TOKEN_RE.findall(window):
            if not (token[0].isalpha() or token in SEPARATORS):
                break
            if token in STOPS or (not tokens and not token[0].isupper()):
                break
            # A head or a title after a separator starts the next item of a list.
            if tokens and tokens[-1] in SEPARATORS and (token in HEADS or token in TITLES):
                tokens.pop()
                break
            tokens.append(token)
            if len(tokens) == MAX_AFTER:
                break
        if tokens and f"{head} {tokens[0]}" not in NOT_BODIES:
            yield (head, *tokens)


def count_prefixes(lines: Iterable[str]) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for line in lines:
        for tokens in candidate_tokens(line):
            for end in range(2, len(tokens) + 1):
                counts[tokens[:end]] += 1
    return counts


def _continues(parent: tuple[str, ...], counts: Counter[tuple[str, ...]], kids: list[tuple[str, ...]]) -> float:
    """Share of the parent's uses that go on into a longer name.

    Capitals and separators continue a name (Bộ Văn hóa, …); of the lowercase words only the
    two most frequent count, because a name is followed by many different verbs (Bộ Tài chính
    hướng dẫn / quy định / có …) but an unfinished word by a few (Cục Kiểm → tra, lâm).
    """
    total = counts[parent]
    upper = sum(counts[k] for k in kids if k[-1][0].isupper() or k[-1] in SEPARATORS)
    lower = sorted((counts[k] for k in kids if k[-1][0].islower() and k[-1] not in SEPARATORS), reverse=True)
    return (upper + sum(lower[:2])) / total


def _followed(parent: tuple[str, ...], child: tuple[str, ...], counts: Counter[tuple[str, ...]]) -> bool:
    """Is child worth exploring as a longer name?"""
    token, share = child[-1], counts[child] / counts[parent]
    if parent[-1] in SEPARATORS:
        return token[0].isupper()
    if token in SEPARATORS:
        return share >= 0.25
    return token[0].isupper() or share >= 0.15


def select_names(counts: Counter[tuple[str, ...]], min_count: int) -> dict[str, int]:
    """Names whose continuation the corpus does not predict: the right boundary of a name.

    From each head + capitalised word, follow the likely continuations; a node is a name when
    under 60 % of its uses continue it (see `_continues`). A lowercase word after a complete
    name starts the sentence, not a longer name, so it is not followed.
    """
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
    for key, n in counts.items():
        if n >= 2 and len(key) > 2:
            children[key[:-1]].append(key)
    names: dict[str, int] = {}
    stack = [key for key, n in counts.items() if len(key) == 2 and n >= min_count]
    while stack:
        node = stack.pop()
        kids = children.get(node, [])
        if node[-1] in SEPARATORS:
            kids = [kid for kid in kids if kid[-1][0].isupper()]
        elif _continues(node, counts, kids) < 0.6 and node[-1].lower() not in BAD_ENDS:
            names[_join(node)] = counts[node]
            kids = [kid for kid in kids if not kid[-1][0].islower() or kid[-1] in SEPARATORS]
        stack.extend(kid for kid in kids if counts[kid] >= min_count and _followed(node, kid, counts))
    return names


def _join(tokens: tuple[str, ...]) -> str:
    return re.sub(r" ,", ",", " ".join(tokens))


def _fold(name: str) -> str:
    return " ".join(re.findall(r"\w+", strip_diacritics(name).lower()))


def mined_rows(names: dict[str, int], known: set[str]) -> list[dict[str, str]]:
    rows = []
    for name, count in sorted(names.items()):
        if _fold(name) in known:
            continue
        head = max((h for h in HEADS if name.startswith(h + " ")), key=len)
        kind, scope = HEADS[head]
        if head == "Bộ" and name.startswith("Bộ Chỉ huy"):
            kind, scope = "military", "provincial"
        rows.append({"canonical": name, "kind": kind, "scope": scope, "aliases": "", "english": "", "count": count})
    return rows


def build(corpora: Path, min_count: int, files: list[str]) -> tuple[list[dict], dict[str, object]]:
    started = time.perf_counter()
    paths = sorted(p for pattern in files for p in corpora.glob(pattern))
    counts = count_prefixes(read_lines(paths))
    names = select_names(counts, min_count)
    mined_counts = {_fold(name): n for name, n in names.items()}
    curated = parse_table(CURATED)
    for row in curated:
        row["source"], row["count"] = "curated", mined_counts.get(_fold(row["canonical"]), 0)
    templates = parse_table(TEMPLATES)
    for row in templates:
        row["source"], row["count"] = "template", 0
    curated += city_counterparts(curated)
    provinces = admin_provinces()
    for row in provinces:
        row["source"], row["count"] = "vietnamadminunits", 0
    known = {_fold(row["canonical"]) for row in curated}
    known |= {_fold(alias) for row in curated for alias in row["aliases"].split(";") if alias.strip()}
    mined = mined_rows(names, known)
    for row in mined:
        row["source"] = "corpus"
    stats = {
        "files": ", ".join(p.name for p in paths),
        "candidates": len(counts),
        "mined": len(mined),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return with_ids(curated + templates + provinces + mined, read_history()), stats


COLUMNS = (
    "canonical",
    "kind",
    "scope",
    "aliases",
    "english",
    "count",
    "source",
    "id",
    "valid_from",
    "valid_to",
    "successors",
)


def to_tsv(rows: list[dict], stats: dict[str, object], min_count: int) -> str:
    header = [
        "# gazette agency lexicon. Generated by scripts/build_agency_lexicon.py; do not edit by hand.",
        f"# corpus: {stats['files']}; mined names need >= {min_count} occurrences.",
        "# columns: canonical, kind, scope, aliases (;), English names (;), corpus count, source, id,",
        "# valid from, valid to (ISO dates, empty = open), successors (canonical names, ;).",
        "# {tỉnh} = 'tỉnh X' or 'thành phố X', {tên} = 'X', {en} = 'X' without diacritics; expanded per",
        "# province/city row at load time. Validity: corpora/agency_history.tsv and vietnamadminunits.",
        "\t".join(COLUMNS),
    ]
    body = ["\t".join(str(r.get(c, "")) for c in COLUMNS) for r in rows]
    return "\n".join(header + body) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "corpora" / "agencies.tsv")
    parser.add_argument("--min-count", type=int, default=25, help="occurrences a mined name needs (default 25)")
    parser.add_argument("--files", nargs="+", default=["legal-*.txt.gz", "admin-*.txt.gz"])
    args = parser.parse_args(argv)
    if not any(args.corpora.glob("legal-*.txt.gz")):
        parser.error(f"{args.corpora} has no legal-*.txt.gz; pass --corpora")
    rows, stats = build(args.corpora, args.min_count, args.files)
    atomic_write_text(args.output, to_tsv(rows, stats, args.min_count))
    print(f"{len(rows)} rows ({stats['mined']} mined from {stats['candidates']} candidates) in {stats['seconds']} s")
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
