"""What both interfaces call: add articles, ask, list, show, remove, check.

The CLI and the Discord bot are thin shells around these functions, so the same articles
and the same question give the same answer whichever way it was asked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.answer.answerers import Answerer, Evidence, choose_answerer
from bot.answer.extractive import RULES_THRESHOLD, SentenceEncoder, SentenceScorer
from bot.answer.models import Answer
from bot.answer.sentence_vectors import SentenceCache, stored_first
from bot.settings import Settings
from index.backup import ArchiveHeader, export_collection, load_archive
from index.errors import BriefbotError, InputError, naming
from index.ingest.files import (
    check_upload,
    parse_article_bytes,
)
from index.ingest.sources import overridden, read_sources
from index.ingest.text import parse_text_article
from index.knowledge import KnowledgeBase, ProgressCallback
from index.models import (
    AddOutcome,
    Article,
    CollectionStats,
    Overrides,
    RawArticle,
    VerifyReport,
)
from index.normalize import clean_line
from index.reindex import ReindexProgress, ReindexReport, reindex
from index.store import check_collection_name

if TYPE_CHECKING:  # imported where used: `briefbot ask` starts without openai or httpx
    import openai

    from index.feeds.poller import FeedPoll, FeedPoller, FollowResult
    from index.feeds.state import FeedInfo
    from index.ingest.links import LinkReader

logger = logging.getLogger(__name__)


def answer_reader(settings: Settings) -> SentenceScorer | None:
    """The trained answer reader, or None for the rules (by setting, or because the shipped
    model cannot be loaded: one warning, then the rules answer)."""
    if settings.reader == "rules":
        return None
    from bot.answer.reader import shared_reader

    return shared_reader(max_tokens=settings.reader_tokens)


def abstain_threshold(settings: Settings) -> float:
    """BRIEFBOT_ABSTAIN_THRESHOLD when set, else the default of the reader in use."""
    if settings.abstain_threshold is not None:
        return settings.abstain_threshold
    reader = answer_reader(settings)
    return reader.abstain_below if reader is not None else RULES_THRESHOLD


class Briefbot:
    def __init__(
        self,
        settings: Settings,
        knowledge: KnowledgeBase | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        """`answerer`: how answers are made; default: chosen from the settings on each ask
        (`choose_answerer`), so a changed setting or reader takes effect at once."""
        self.settings = settings
        self.knowledge = knowledge or KnowledgeBase(settings)
        self._answerer = answerer
        self._sentences: SentenceCache | None = None
        self._llm: openai.OpenAI | None = None
        self._llm_lock = threading.Lock()
        self._links: LinkReader | None = None
        self._feeds: FeedPoller | None = None

    @property
    def links(self) -> LinkReader:
        """Fetching and reading links, with the guard and limits from the settings."""
        from index.ingest.links import LinkReader

        if self._links is None:
            self._links = LinkReader.from_settings(self.settings)
        return self._links

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
        self.knowledge.close()

    # -- adding -------------------------------------------------------------------------
    def read_sources(
        self, sources: list[str], overrides: Overrides | None = None
    ) -> Iterator[RawArticle | BriefbotError]:
        """Each source read in turn; a failure is yielded as an error and the batch goes on."""
        from index.ingest.links import document_limits

        return read_sources(
            sources,
            lambda url: self.links.read(url),
            document_limits(self.settings),
            overrides,
        )

    def add_sources(
        self,
        sources: list[str],
        collection: str = "default",
        overrides: Overrides | None = None,
        progress: ProgressCallback | None = None,
        *,
        allow_duplicate: bool = False,
    ) -> list[AddOutcome]:
        """Files, folders and links; a near-identical copy of a stored article is skipped
        unless `allow_duplicate`. Explicit metadata also updates an article already stored."""
        return self.knowledge.add(
            self.read_sources(sources, overrides),
            collection,
            progress,
            check_duplicates=not allow_duplicate,
            overrides=overrides,
        )

    def add_text(
        self,
        text: str,
        collection: str = "default",
        overrides: Overrides | None = None,
        origin: str = "pasted text",
        *,
        allow_duplicate: bool = False,
    ) -> AddOutcome:
        """Pasted text: parsed like a .txt file (a title line and Source: line are honoured)."""
        return self._add_one(
            origin,
            lambda: parse_text_article(text, origin=origin),
            collection,
            overrides,
            allow_duplicate,
        )

    def upload_refusal(self, filename: str, size: int) -> str | None:
        """Why an attachment is refused by its name and announced size (unsupported type, too
        large, empty), checked before downloading it; None when it may be downloaded."""
        try:
            check_upload(filename, size, self.settings.max_upload_bytes)
        except BriefbotError as exc:
            return str(exc)
        return None

    def add_upload(
        self,
        data: bytes,
        filename: str,
        collection: str = "default",
        overrides: Overrides | None = None,
        *,
        allow_duplicate: bool = False,
    ) -> AddOutcome:
        """A file received as bytes (a Discord attachment): same parsing as `briefbot add`."""
        from index.ingest.links import document_limits

        def read() -> RawArticle:
            check_upload(filename, len(data), self.settings.max_upload_bytes)
            return parse_article_bytes(data, filename, document_limits(self.settings))

        return self._add_one(filename, read, collection, overrides, allow_duplicate)

    def add_url(
        self,
        url: str,
        collection: str = "default",
        overrides: Overrides | None = None,
        *,
        allow_duplicate: bool = False,
    ) -> AddOutcome:
        """A web page or document by link: fetched through the SSRF guard, within the limits.

        Blocking (network and a PDF child process): async callers run it in a thread.
        """
        return self._add_one(
            url, lambda: self.links.read(url), collection, overrides, allow_duplicate
        )

    def _add_one(
        self,
        origin: str,
        read: Callable[[], RawArticle],
        collection: str,
        overrides: Overrides | None,
        allow_duplicate: bool,
    ) -> AddOutcome:
        """Read one article and store it; a read that fails is a "failed" outcome naming
        `origin`, and nothing is stored."""
        try:
            raw = read()
        except BriefbotError as exc:
            return AddOutcome("failed", origin, error=naming(origin, exc))
        return self.knowledge.add(
            [overridden(raw, overrides)],
            collection,
            check_duplicates=not allow_duplicate,
            overrides=overrides,
        )[0]

    # -- asking -------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        collection: str = "default",
        k: int | None = None,
        on_partial: Callable[[str], None] | None = None,
    ) -> Answer:
        """The answer with its citations: written by the LLM when one is configured (see
        `answer_mode`), else, or when it fails, extractive.

        `on_partial`, if given, streams the LLM's answer: it is called from this (worker)
        thread with the text so far as tokens arrive, its [n] markers already numbered like
        the final citations but its figures not yet checked. The returned Answer is the
        checked one (or the extractive fallback): show it last, in place of the partials.
        Never called when the answer is extractive from the start.
        """
        question = clean_line(question, len(question) + 1)  # no invisible characters either
        if not question:
            raise InputError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"the question is too long ({len(question):,} characters; "
                f"limit {self.settings.max_question_chars:,})"
            )
        if k is not None and k < 1:
            raise InputError(f"k must be at least 1 (got {k})")
        k = k or self.settings.top_k
        started = time.perf_counter()
        result = self.knowledge.retrieve(
            collection, question, k=max(k, 8, self.settings.llm_passages)
        )
        retrieved = time.perf_counter()
        evidence = Evidence(
            question,
            result.query_vector,
            result.passages,
            self._sentence_encoder(self.knowledge.sentence_vectors(result.passages)),
            k,
        )
        answer = self.answerer.answer(evidence, on_partial)
        timings = {"retrieve": round((retrieved - started) * 1000, 1), **answer.timings_ms}
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        return replace(_with_as_of(answer), timings_ms=timings)

    @property
    def answerer(self) -> Answerer:
        """How answers are made (chosen from the settings in bot/answer/answerers.py)."""
        if self._answerer is not None:
            return self._answerer
        return choose_answerer(self.settings, self.reader, self.abstain_threshold, self._llm_client)

    @property
    def reader(self) -> SentenceScorer | None:
        return answer_reader(self.settings)

    @property
    def abstain_threshold(self) -> float:
        return abstain_threshold(self.settings)

    @property
    def writes_answers(self) -> bool:
        """True when answers come from the LLM (and can be streamed as they are written)."""
        return self.answerer.streams

    def _llm_client(self) -> openai.OpenAI:
        """One client per Briefbot: it keeps connections to the endpoint open between asks."""
        from bot.answer import llm

        with self._llm_lock:
            if self._llm is None:
                self._llm = llm.make_client(self.settings)
            return self._llm

    def _sentence_encoder(self, stored: dict[str, np.ndarray]) -> SentenceEncoder:
        if self._sentences is None:
            self._sentences = SentenceCache(self.knowledge.embedder)
        return stored_first(stored, self._sentences)

    # -- managing -----------------------------------------------------------------------
    def list_articles(
        self, collection: str = "default", limit: int = 1000, offset: int = 0
    ) -> list[Article]:
        return self.knowledge.list(collection, limit, offset)

    def article(self, article_id: int, collection: str = "default") -> tuple[Article, str]:
        return (
            self.knowledge.get(collection, article_id),
            self.knowledge.text(collection, article_id),
        )

    def remove(self, article_id: int, collection: str = "default") -> Article:
        return self.knowledge.remove(collection, article_id)

    def stats(self, collection: str = "default") -> CollectionStats:
        return self.knowledge.stats(collection)

    def verify(self, collection: str | None = None, repair: bool = False) -> VerifyReport:
        return self.knowledge.verify(collection, repair)

    # -- feeds (docs/FEEDS.md) --------------------------------------------------------------
    @property
    def feed_poller(self) -> FeedPoller:
        """Following and polling feeds; one per service (the bot's poller task uses it too)."""
        from index.feeds.poller import FeedOptions, FeedPoller

        if self._feeds is None:
            options = FeedOptions.from_settings(self.settings)
            self._feeds = FeedPoller(self.knowledge, self.links, options)
        return self._feeds

    def follow(
        self, url: str, collection: str = "default", channel: str | None = None
    ) -> FollowResult:
        """Check the feed now and follow it (again: unchanged); blocking (network)."""
        return self.feed_poller.follow(collection, url, channel)

    def unfollow(self, ref: str, collection: str = "default") -> FeedInfo:
        """By the id `feeds` shows or by link; the stories already added stay."""
        return self.feed_poller.unfollow(collection, ref)

    def feeds(self, collection: str = "default") -> list[FeedInfo]:
        return self.feed_poller.feeds(collection)

    def poll(
        self,
        collection: str | None = "default",
        *,
        due_only: bool = False,
        served: Callable[[str], bool] | None = None,
    ) -> list[FeedPoll]:
        """One pass over the followed feeds (None: every collection's, or those `served`
        accepts); blocking (network, embedding): async callers run it in a thread."""
        return self.feed_poller.poll(collection, due_only=due_only, served=served)

    # -- maintenance ----------------------------------------------------------------------
    def reindex(self, progress: ReindexProgress | None = None) -> ReindexReport:
        """Re-embed every article with the configured model (needs check_model=False)."""
        return reindex(self.knowledge, progress)

    def export(self, path: Path, collection: str = "default") -> ArchiveHeader:
        """Refuses a collection that does not exist: an empty backup of a misspelt name would
        look like a successful one."""
        check_collection_name(collection)
        known = self.knowledge.store.collections()
        if collection not in known:
            listed = ", ".join(known) if known else "none yet"
            raise InputError(f"no collection named '{collection}' (collections: {listed})")
        return export_collection(self.knowledge.store, collection, path)

    def import_archive(
        self,
        path: Path,
        collection: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[ArchiveHeader, list[AddOutcome]]:
        """Restore an archive (into its own collection unless told otherwise); like `add`,
        content already stored is left unchanged, so importing twice changes nothing."""
        archive = load_archive(path)
        target = collection or archive.header.collection
        feeds = self.feed_poller.checked(archive.feeds)  # a bad link refuses the whole archive
        outcomes = self.knowledge.add(archive.articles, target, progress)
        if feeds:  # after the articles: their first poll finds the stories stored
            self.feed_poller.restore(target, feeds)
        return archive.header, outcomes


def _with_as_of(answer: Answer) -> Answer:
    """How recent the evidence is: the cited article's publication date, or None when it is
    unknown, and separately when it was added (which says nothing about when it was written)."""
    answering = [c for c in answer.citations if c.answers]
    if answer.abstained or not answering:
        return answer
    article = answering[0].passage.article
    return replace(
        answer,
        as_of=article.published,
        as_of_source=article.source,
        added=article.added_at.date(),
    )
