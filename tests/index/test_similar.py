"""Near-duplicate detection by word shingles."""

from __future__ import annotations

from index.models import RawArticle
from index.similar import jaccard, shingles
from tests.ingest_fixtures import NEWS_PARAGRAPHS

STORY = " ".join(NEWS_PARAGRAPHS)


def test_light_edits_stay_similar_and_other_stories_do_not():
    edited = STORY.replace("officials said", "county officials said").replace("Tuesday", "Tues.")
    assert jaccard(shingles(STORY), shingles(edited)) >= 0.8
    assert jaccard(shingles(STORY), shingles(STORY.upper())) == 1.0
    other = "Dock workers at Port Calder voted to end a nine-day strike over pay on Friday."
    assert jaccard(shingles(STORY), shingles(other)) == 0.0
    half = " ".join(NEWS_PARAGRAPHS[:2])
    assert 0.2 < jaccard(shingles(STORY), shingles(half)) < 0.6


def test_knowledge_base_refuses_a_near_copy_only_when_asked(kb):
    first = kb.add([RawArticle(STORY, title="Fire", source="Courier", url="https://a.example/1")])
    copy = RawArticle(STORY + " Reporting by Sam Ortiz.", title="Fire", url="https://b.example/2")
    refused = kb.add([copy], check_duplicates=True)[0]
    assert refused.status == "skipped" and refused.duplicate_of == first[0].article.id
    assert refused.note.startswith(f"near-identical to #{first[0].article.id} 'Fire' (Courier)")
    assert refused.error is None and kb.stats("default").articles == 1
    assert kb.add([copy])[0].status == "added"
    assert kb.verify().ok
