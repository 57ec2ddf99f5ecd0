"""Counts shown to people agree with their noun."""

from index.wording import counted


def test_one_is_singular_and_other_counts_plural():
    assert counted(1, "chunk") == "1 chunk"
    assert counted(0, "collection") == "0 collections"
    assert counted(12000, "article") == "12,000 articles"
    assert counted(2, "copy", "copies") == "2 copies"
