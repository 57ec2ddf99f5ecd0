from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import chunk_text, split_sentences
from index.normalize import normalize


def _texts(text):
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_abbreviations_initials_and_datelines_do_not_split():
    text = "SEOUL, Nov. 4 (Yonhap) -- Mr. Kim met U.S. officials. J. Smith left! Really?"
    assert _texts(text) == [
        "SEOUL, Nov. 4 (Yonhap) -- Mr. Kim met U.S. officials.",
        "J. Smith left!",
        "Really?",
    ]


def test_quotes_and_paragraphs_end_sentences():
    text = 'He said "it is fine." Then he left\n\nA new paragraph starts here. 3.5 percent.'
    assert _texts(text) == [
        'He said "it is fine."',
        "Then he left",
        "A new paragraph starts here.",
        "3.5 percent.",
    ]


def test_chunks_overlap_by_a_sentence_and_respect_size():
    text = " ".join(
        f"Sentence number {i} says something useful about topic {i}." for i in range(40)
    )
    chunks = chunk_text(text, max_chars=300, overlap_sentences=1)
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.sentences[-1] == b.sentences[0]
        assert len(a.text) <= 300
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_long_sentence_is_cut_at_spaces():
    text = "word " * 1000
    chunks = chunk_text(text.strip(), max_chars=200)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("abcXYZ .!?\n\"'0123456789,-\u2019")),
        max_size=1500,
    ),
    st.integers(min_value=100, max_value=600),
    st.integers(min_value=0, max_value=3),
)
def test_every_span_quotes_the_article_exactly(raw, max_chars, overlap):
    text = normalize(raw).text
    chunks = chunk_text(text, max_chars=max_chars, overlap_sentences=overlap)
    covered = set()
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert len(chunk.text) <= max_chars
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
            assert (
                text[sentence.start : sentence.end].strip() == text[sentence.start : sentence.end]
            )
            covered.update(range(sentence.start, sentence.end))
    # every non-space character of the article is in some chunk
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(blacklist_categories=("Cs",)),
            st.sampled_from(list("\u200b\u200f\u202e\u00ad\r\n\t .!?-")),
        ),
        max_size=800,
    ),
    st.integers(min_value=100, max_value=400),
)
def test_any_unicode_input_chunks_into_exact_quotes(raw, max_chars):
    """Whatever arrives (controls, bidi marks, soft hyphens, CRLF), every chunk and sentence
    span quotes the stored text exactly and nothing invisible survives normalization."""
    text = normalize(raw).text
    assert not any(ch in text for ch in "\u200b\u200f\u202e\r")
    for chunk in chunk_text(text, max_chars=max_chars, overlap_sentences=1):
        assert chunk.text == text[chunk.start : chunk.end] and chunk.text.strip() == chunk.text
        assert len(chunk.text) <= max_chars
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
