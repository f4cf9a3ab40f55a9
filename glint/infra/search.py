"""The text index: people by name prefix, posts by caption words, behind one small interface.

Embedded, SQLite's FTS5 (prefix indexes for typeahead, the Porter stemmer for captions);
scale-out, PostgreSQL (a byte-ordered B-tree of name terms for typeahead, a `tsvector` with a GIN
index and the English stemmer for captions). Both live in the application's own database, so
an implementation answers a search with a *selectable* of matching IDs that the domain joins
with the live graph (privacy, blocks, bans, deletions) in the same query: nothing the index
holds can show what the database no longer allows. An external engine (OpenSearch) would
answer the same calls with a VALUES list of its top hits (docs/architecture.md, "Search").

Text reaches either engine folded (`fold`): case- and accent-free, so `Émile` and `emile` are the
same word on both. Queries reach it only as words (`words`), never as syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

MAX_QUERY_WORDS = 8
# A word: letters, digits and underscores, joined by dots (`emile.zola` is one username word).
WORD = re.compile(r"\w+(?:\.\w+)*")
# The highest code point: every string that starts with a prefix sorts below prefix + this.
TOP = "\U0010ffff"


def fold(text: str) -> str:
    """Lower-case, accent-free text (NFKD without combining marks, then casefold)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", " "))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare.casefold())


def words(text: str) -> list[str]:
    """The folded words of a query or a document, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in WORD.finditer(fold(text)):
        seen.setdefault(match.group(0), None)
    return list(seen)


def name_terms(username: str, display_name: str) -> list[str]:
    """Every term a person can be found by: the username, its parts, the name's words."""
    terms: dict[str, None] = {}
    for word in words(f"{username} {display_name}"):
        terms.setdefault(word, None)
        for part in re.split(r"[._]", word):
            if part:
                terms.setdefault(part, None)
    return list(terms)


@dataclass(frozen=True, slots=True)
class PersonDoc:
    """What a person is found by."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class TextDoc:
    """A post's searchable text (its caption)."""

    id: int
    text: str


class SearchIndex(Protocol):
    """Documents in, matching IDs out (as a selectable the caller joins and orders)."""

    async def put_people(self, session: AsyncSession, docs: Sequence[PersonDoc]) -> None:
        """Index people (replacing what was indexed for them)."""
        ...

    async def remove_people(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget people."""
        ...

    async def put_posts(self, session: AsyncSession, docs: Sequence[TextDoc]) -> None:
        """Index posts' text (replacing what was indexed for them)."""
        ...

    async def remove_posts(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget posts."""
        ...

    async def clear(self, session: AsyncSession) -> None:
        """Forget everything (a rebuild starts here)."""
        ...

    def people_matching(self, query_words: Sequence[str]) -> sa.Select[tuple[int]]:
        """SQL: the IDs (column `id`) of people with a term starting with each query word (an
        ID may repeat). Callers correlate it (`EXISTS … AND id = users.id`) so the database
        can walk people in the order it ranks them and stop early."""
        ...

    def posts_matching(
        self, query_words: Sequence[str], *, below_id: int, window: int
    ) -> sa.Select[tuple[int, float]]:
        """SQL: the IDs (`id`) of the newest `window` posts below `below_id` containing every
        word (stemmed), with `relevance` (higher is better). Relevance ranks within a window
        of recent matches: a common word matches millions of posts, and ranking them all is
        what no index can make fast."""
        ...


def index_for(dialect: str) -> SearchIndex:
    """The index of the database in use."""
    if dialect == "postgresql":
        return PostgresSearchIndex()
    return SqliteSearchIndex()


# --- SQLite: FTS5 -------------------------------------------------------------------------

SQLITE_PEOPLE = "search_people_fts"
SQLITE_POSTS = "search_posts_fts"

SQLITE_DDL = (
    # Terms are stored pre-split (`name_terms`); '.' and '_' stay inside a token so a username
    # is one token too. Prefix indexes make 2- and 3-letter typeahead an index lookup.
    f"CREATE VIRTUAL TABLE {SQLITE_PEOPLE} USING fts5(terms, "
    "tokenize = \"unicode61 remove_diacritics 2 tokenchars '._'\", prefix = '2 3')",
    f"CREATE VIRTUAL TABLE {SQLITE_POSTS} USING fts5(body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
)
SQLITE_DROP = (f"DROP TABLE IF EXISTS {SQLITE_PEOPLE}", f"DROP TABLE IF EXISTS {SQLITE_POSTS}")

_fts_people = sa.table(SQLITE_PEOPLE, sa.column("rowid", sa.BigInteger), sa.column("terms"))
_fts_posts = sa.table(SQLITE_POSTS, sa.column("rowid", sa.BigInteger), sa.column("body"))


def fts5_query(query_words: Sequence[str], *, prefix: bool) -> str:
    """An FTS5 expression that means only these words: each one quoted (a word never holds a
    quote), all of them required."""
    star = "*" if prefix else ""
    return " ".join(f'"{word}"{star}' for word in query_words)


class SqliteSearchIndex:
    """FTS5 tables keyed by rowid = the person's or the post's ID."""

    async def put_people(self, session: AsyncSession, docs: Sequence[PersonDoc]) -> None:
        """Index people (replacing what was indexed for them)."""
        await self.remove_people(session, [doc.id for doc in docs])
        if docs:
            await session.execute(
                sa.insert(_fts_people),
                [
                    {"rowid": doc.id, "terms": " ".join(name_terms(doc.username, doc.display_name))}
                    for doc in docs
                ],
            )

    async def remove_people(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget people."""
        if ids:
            await session.execute(sa.delete(_fts_people).where(_fts_people.c.rowid.in_(ids)))

    async def put_posts(self, session: AsyncSession, docs: Sequence[TextDoc]) -> None:
        """Index posts' text (replacing what was indexed for them)."""
        await self.remove_posts(session, [doc.id for doc in docs])
        rows = [{"rowid": doc.id, "body": fold(doc.text)} for doc in docs if doc.text.strip()]
        if rows:
            await session.execute(sa.insert(_fts_posts), rows)

    async def remove_posts(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget posts."""
        if ids:
            await session.execute(sa.delete(_fts_posts).where(_fts_posts.c.rowid.in_(ids)))

    async def clear(self, session: AsyncSession) -> None:
        """Forget everything."""
        await session.execute(sa.delete(_fts_people))
        await session.execute(sa.delete(_fts_posts))

    def people_matching(self, query_words: Sequence[str]) -> sa.Select[tuple[int]]:
        """SQL: people with a term starting with each word (FTS5 prefix queries)."""
        table: sa.ColumnClause[Any] = sa.literal_column(SQLITE_PEOPLE)
        found = sa.select(_fts_people.c.rowid.label("id"))
        if not query_words:  # no words: no match (an empty MATCH is an FTS5 syntax error)
            return found.where(sa.false())
        return found.where(table.op("MATCH")(fts5_query(query_words, prefix=True)))

    def posts_matching(
        self, query_words: Sequence[str], *, below_id: int, window: int
    ) -> sa.Select[tuple[int, float]]:
        """SQL: the newest matches after stemming (FTS5 walks rowids backwards), BM25 as
        relevance."""
        table: sa.ColumnClause[Any] = sa.literal_column(SQLITE_POSTS)
        relevance = sa.cast(-sa.func.bm25(table), sa.Float)
        found = sa.select(_fts_posts.c.rowid.label("id"), relevance.label("relevance"))
        if not query_words:
            return found.where(sa.false())
        return (
            found.where(
                table.op("MATCH")(fts5_query(query_words, prefix=False)),
                _fts_posts.c.rowid < below_id,
            )
            .order_by(_fts_posts.c.rowid.desc())
            .limit(window)
        )


# --- PostgreSQL: B-tree terms and tsvector -------------------------------------------------

PG_TERMS = "search_person_terms"
PG_POSTS = "search_posts"
PG_CONFIG = "english"

PG_DDL = (
    # Collation C: byte order, so every term with a prefix is one contiguous index range.
    f'CREATE TABLE {PG_TERMS} (term varchar(100) COLLATE "C" NOT NULL, '
    "person_id bigint NOT NULL, PRIMARY KEY (term, person_id))",
    f"CREATE INDEX ix_{PG_TERMS}_person_id ON {PG_TERMS} (person_id)",
    f"CREATE TABLE {PG_POSTS} (post_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    f"CREATE INDEX ix_{PG_POSTS}_document ON {PG_POSTS} USING gin (document)",
)
PG_DROP = (f"DROP TABLE IF EXISTS {PG_TERMS}", f"DROP TABLE IF EXISTS {PG_POSTS}")

_pg_terms = sa.table(PG_TERMS, sa.column("term", sa.String), sa.column("person_id", sa.BigInteger))
_pg_posts = sa.table(PG_POSTS, sa.column("post_id", sa.BigInteger), sa.column("document"))
_config: sa.ColumnClause[Any] = sa.literal_column(f"'{PG_CONFIG}'::regconfig")


def _planned_with(value: str) -> sa.BindParameter[str]:
    """A prefix bound the planner sees (rendered as a quoted literal when the statement runs):
    with a parameter, a prepared statement's generic plan walks (follower_count, id) for every
    prefix, 1 s for one matching 3,500 of 1M people, where a plan made for the prefix is ms."""
    return sa.bindparam(None, value, type_=sa.String, literal_execute=True)


class PostgresSearchIndex:
    """Name terms in a byte-ordered B-tree; captions as English `tsvector`s under GIN."""

    async def put_people(self, session: AsyncSession, docs: Sequence[PersonDoc]) -> None:
        """Index people (replacing what was indexed for them)."""
        await self.remove_people(session, [doc.id for doc in docs])
        rows = [
            {"term": term[:100], "person_id": doc.id}
            for doc in docs
            for term in name_terms(doc.username, doc.display_name)
        ]
        if rows:
            await session.execute(sa.insert(_pg_terms), rows)

    async def remove_people(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget people."""
        if ids:
            await session.execute(sa.delete(_pg_terms).where(_pg_terms.c.person_id.in_(ids)))

    async def put_posts(self, session: AsyncSession, docs: Sequence[TextDoc]) -> None:
        """Index posts' text (replacing what was indexed for them)."""
        await self.remove_posts(session, [doc.id for doc in docs])
        rows = [{"post_id": doc.id, "body": fold(doc.text)} for doc in docs if doc.text.strip()]
        if rows:
            body = sa.bindparam("body", type_=sa.Text)
            await session.execute(
                sa.insert(_pg_posts).values(
                    post_id=sa.bindparam("post_id"), document=sa.func.to_tsvector(_config, body)
                ),
                rows,
            )

    async def remove_posts(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Forget posts."""
        if ids:
            await session.execute(sa.delete(_pg_posts).where(_pg_posts.c.post_id.in_(ids)))

    async def clear(self, session: AsyncSession) -> None:
        """Forget everything."""
        await session.execute(sa.text(f"TRUNCATE {PG_TERMS}, {PG_POSTS}"))

    def people_matching(self, query_words: Sequence[str]) -> sa.Select[tuple[int]]:
        """SQL: people with a term starting with each word (one index range per word)."""
        selects = [
            sa.select(_pg_terms.c.person_id.label("id")).where(
                _pg_terms.c.term >= _planned_with(word),
                _pg_terms.c.term < _planned_with(word + TOP),
            )
            for word in query_words
        ]
        if not selects:
            return sa.select(_pg_terms.c.person_id.label("id")).where(sa.false())
        if len(selects) == 1:
            return selects[0]  # an ID per matching term: for IN and EXISTS, not for listing
        both = sa.intersect(*selects).subquery()
        return sa.select(both.c.id)

    def posts_matching(
        self, query_words: Sequence[str], *, below_id: int, window: int
    ) -> sa.Select[tuple[int, float]]:
        """SQL: the newest matching documents (the planner walks the primary key backwards
        for a common word, the GIN index for a rare one), cover density as relevance."""
        query = sa.func.plainto_tsquery(_config, " ".join(query_words))
        newest = (
            sa.select(_pg_posts.c.post_id, _pg_posts.c.document)
            .where(_pg_posts.c.document.op("@@")(query), _pg_posts.c.post_id < below_id)
            .order_by(_pg_posts.c.post_id.desc())
            .limit(window)
            .subquery("newest")
        )
        # Normalisation 1: divided by 1 + log(document length), so a word in a short caption
        # counts more than the same word lost in a long one (as BM25 does on SQLite).
        relevance = sa.cast(sa.func.ts_rank_cd(newest.c.document, query, 1), sa.Float)
        return sa.select(newest.c.post_id.label("id"), relevance.label("relevance"))
