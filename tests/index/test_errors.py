"""Error messages name what failed exactly once."""

from index.errors import InputError, naming


def test_naming_puts_the_origin_in_front_once():
    assert naming("a.pdf", InputError("too large")) == "a.pdf: too large"
    assert naming("a.pdf", InputError("a.pdf: too large")) == "a.pdf: too large"
    assert naming("", "no article text found") == "no article text found"
