"""Shared fixtures: a fake embedder for fast unit tests, the real model once per session,
and a temp data dir for every test so nothing touches the working directory's index."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bot.settings import Settings
from index.embedding import HashingEmbedder
from index.knowledge import KnowledgeBase
from index.offline import quiet_offline_libraries

quiet_offline_libraries()
# One ONNX export of the real model per test session, shared by every data dir and child
# process, and never the user's real cache (~/.cache/briefbot); removed at the end (90 MB).
if "BRIEFBOT_MODEL_CACHE_DIR" not in os.environ:
    os.environ["BRIEFBOT_MODEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="briefbot-models-")
    atexit.register(shutil.rmtree, os.environ["BRIEFBOT_MODEL_CACHE_DIR"], ignore_errors=True)

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPORA = SHARED / "corpora"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "articles"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data dir and no .env or LLM/Discord settings from the machine."""
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "DISCORD_TOKEN",
        "BRIEFBOT_EMBEDDING_MODEL",
        "BRIEFBOT_STORE_URL",
        "PGPASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Read after `backend` (when a test uses it), so it names that test's store."""
    return Settings(data_dir=tmp_path / "data")


def use_fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every KnowledgeBase built from settings (the CLI, the service, child processes) gets the
    hashing fake, through the same setting a user would change: BRIEFBOT_EMBEDDING_MODEL."""
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:64")


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_model(monkeypatch)


@pytest.fixture
def server():
    """A local web server for link tests (tests/ingest_fixtures.py: routes, pages, PDFs)."""
    from tests.ingest_fixtures import serving

    with serving() as srv:
        yield srv


def search(kb: KnowledgeBase, collection: str, query: str, k: int = 5) -> list:
    """The passages retrieval finds (the knowledge base's `retrieve`, without the vector)."""
    return list(kb.retrieve(collection, query, k).passages)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def kb(settings: Settings, fake_embedder: HashingEmbedder) -> KnowledgeBase:
    knowledge = KnowledgeBase(settings, embedder=fake_embedder)
    yield knowledge
    knowledge.close()


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled MiniLM on the default backend (ONNX), loaded once for the whole session."""
    from index.embedder_factory import make_embedder
    from index.settings import IndexSettings

    return make_embedder(IndexSettings())


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server of the session (tests/pg_server.py): CI's, or a private cluster
    started here; the tests that need it skip, saying why, only when PostgreSQL is absent."""
    from tests.pg_server import PgServer, pg_bin, private_cluster

    url = os.environ.get("BRIEFBOT_TEST_POSTGRES_URL")
    if url:
        data = os.environ.get("BRIEFBOT_TEST_POSTGRES_DATA")
        yield PgServer(url, Path(data) if data else None, pg_bin())
        return
    bin_dir = pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)")
    with private_cluster(bin_dir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of a fresh, empty database for this test. Stores a test left open are closed
    before the database is dropped (their pools would keep reconnecting to it)."""
    from index.pg_store import PgStore

    opened: list[PgStore] = []
    original = PgStore.__init__

    def recording(self: PgStore, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    monkeypatch.setattr(PgStore, "__init__", recording)
    with pg_server.database() as url:
        yield url
        for store in opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on each store: every Settings (fixtures, the CLI, child processes) reads
    BRIEFBOT_STORE_URL, set here to a fresh database for the PostgreSQL run."""
    if request.param == "postgresql":
        monkeypatch.setenv("BRIEFBOT_STORE_URL", request.getfixturevalue("pg_url"))
    return str(request.param)


def needs_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not present (only in the project's own workspace)")
