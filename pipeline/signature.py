"""How a signature block reads: the marks (TM., KT., TL., TUQ., Q.), "Đã ký", and the signer's
positions. Knowledge shared by the segmenter (pipeline/segment/tail.py reads the signer) and by
restoration (pipeline/restore/names.py leaves the signer's given names to a reviewer). Patterns
work on folded text (no marks, lower case: pipeline.segment.text.fold_line)."""

from __future__ import annotations

import re

__all__ = ["POSITIONS", "SIGNED", "SIGN_MARK"]

SIGN_MARK = re.compile(r"^\W*(?P<mark>tm|kt|tl|tuq|q)\s*\.\s*(?=\S)")
SIGNED = re.compile(r"^\W*\(?\s*(?:d\S\s*k\S|signed)\s*\)?\s*(?::|$)")

POSITIONS = {
    "chu tich": "Chủ tịch", "pho chu tich": "Phó Chủ tịch", "giam doc": "Giám đốc", "pho giam doc": "Phó Giám đốc",
    "truong ban": "Trưởng ban", "pho truong ban": "Phó Trưởng ban", "chanh van phong": "Chánh Văn phòng",
    "pho chanh van phong": "Phó Chánh Văn phòng", "bi thu": "Bí thư", "pho bi thu": "Phó Bí thư",
    "thu truong": "Thứ trưởng", "chairman": "Chủ tịch", "vice chairman": "Phó Chủ tịch", "director": "Giám đốc",
    "bo truong": "Bộ trưởng", "thu tuong": "Thủ tướng", "pho thu tuong": "Phó Thủ tướng",
    "cuc truong": "Cục trưởng", "pho cuc truong": "Phó Cục trưởng", "vien truong": "Viện trưởng",
}  # fmt: skip
