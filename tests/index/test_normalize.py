from hypothesis import given
from hypothesis import strategies as st

from index.normalize import normalize


def test_rejoins_word_broken_across_lines():
    text = "to assess pote\nntial security implications as Pyongyang"
    assert normalize(text).text == "to assess potential security implications as Pyongyang"


def test_soft_wrap_becomes_space_and_real_words_stay_apart():
    assert normalize("the troops were sent in\nto the region").text == (
        "the troops were sent in to the region"
    )
    assert normalize("deployed\nto Russia").text == "deployed to Russia"


def test_hyphenated_line_break():
    assert normalize("a secu-\nrity threat").text == "a security threat"
    assert normalize("a well-\nknown fact").text == "a well-known fact"


def test_paragraphs_kept_whitespace_collapsed_invisible_removed():
    raw = "First  para\u200b line.\r\n\r\n\r\nSecond\tpara.\u202e"
    assert normalize(raw).text == "First para line.\n\nSecond para."


def test_list_items_keep_their_lines():
    assert normalize("Points:\n- one\n- two").text == "Points:\n- one\n- two"


def test_offsets_point_back_into_the_original():
    raw = "Officials  said\nthat pote\nntial talks begin."
    clean = normalize(raw)
    start = clean.text.index("potential")
    o_start, o_end = clean.to_original(start, start + len("potential"))
    assert raw[o_start:o_end] == "pote\nntial"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_every_clean_char_maps_to_a_source_char(raw):
    clean = normalize(raw)
    assert len(clean.offsets) == len(clean.text)
    assert all(0 <= o < len(raw) for o in clean.offsets)
    assert list(clean.offsets) == sorted(clean.offsets)
    assert clean.text == clean.text.strip()
    assert "  " not in clean.text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_clean_line_is_visible_bounded_and_idempotent(raw):
    from index.normalize import clean_line

    line = clean_line(raw, 300)
    assert len(line) <= 300
    assert "\n" not in line and "  " not in line and line == line.strip()
    assert not any(ch in line for ch in "\u200b\u200c\u200d\u200f\u202e\ufeff")
    assert clean_line(line, 300) == line


def test_table_rows_keep_their_lines():
    raw = "Costs:\nitem | value\nBarrier | 4.2 million\nPumps | 0.8 million\nin total."
    assert normalize(raw).text == (
        "Costs: item | value\nBarrier | 4.2 million\nPumps | 0.8 million in total."
    )
