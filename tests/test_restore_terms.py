from __future__ import annotations

from pipeline.restore.terms import TERMS, Terms


def test_a_term_read_with_marks_or_an_l_is_put_back() -> None:
    terms = Terms(["IoT", "eKYC", "iOS"])
    assert terms.repair(["(IơT),", "loT", "lơT;", "eKYC", "ẻKYC"]) == ["(IoT),", "IoT", "IoT;", "eKYC", "eKYC"]


def test_words_that_are_not_misread_terms_stay() -> None:
    terms = Terms(["IoT", "iOS"])
    tokens = ["IoT", "IOT", "Iot", "iơs", "Sở", "IloT", "IoT-2", "ThS"]  # a term, other cases, other letters
    assert terms.repair(tokens) == tokens


def test_a_spelling_shared_by_two_terms_is_left_alone() -> None:
    assert Terms(["IoT", "loT"]).term_for("lơT") is None


def test_the_shipped_terms_load() -> None:
    terms = Terms.load(TERMS)
    assert len(terms.terms) > 100 and all(t.isascii() for t in terms.terms)
