"""The relational store: SQLite (WAL) embedded, PostgreSQL at scale, one SQLAlchemy model set."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute
from sqlalchemy.util.concurrency import await_

# One naming convention so Alembic gives every constraint the same, predictable name on both
# backends (SQLite batch migrations need names to drop constraints).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue instead
    # of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
WRITE_WAIT_SECONDS = 10.0  # as long as SQLite's own busy timeout would wait


_WRITING_CTE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _is_write(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    head = statement.lstrip()[:16].upper()
    if head.startswith("WITH"):  # a CTE can end in a write (SQLite's UPSERT-with-CTE forms)
        return _WRITING_CTE.search(statement) is not None
    return head.startswith(_WRITE_VERBS)


class _SqliteWriteGate:
    """One writing transaction at a time per process, in the order they asked.

    SQLite has one writer; a transaction that finds the write lock taken polls for it with a
    growing sleep (its busy handler), so under steady writes an unlucky one (an upload behind
    the photo jobs' writes) can wait most of a second while the lock is free half the time. A
    FIFO asyncio lock taken before a transaction's first write lines the writers up instead;
    it is handed on once SQLite's COMMIT or ROLLBACK has run (or the connection is given back
    or dropped). Other processes on the same file still meet SQLite's busy timeout.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._holder: Any = None  # the DBAPI connection inside the writing transaction

    def install(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._before_execute)
        # SQLAlchemy's commit/rollback events fire before the DBAPI call; the lock must be
        # handed on after it, so the dialect's own calls are wrapped (this engine's only).
        dialect = sync_engine.dialect
        for name in ("do_commit", "do_rollback"):
            setattr(dialect, name, self._releasing(getattr(dialect, name)))
        pool = sync_engine.pool
        event.listen(pool, "reset", self._release_on_reset)
        for name in ("checkin", "close", "invalidate"):
            event.listen(pool, name, self._release_record)

    def _releasing(self, call: Callable[[Any], None]) -> Callable[[Any], None]:
        def run_then_release(dbapi_connection: Any) -> None:
            try:
                call(dbapi_connection)
            finally:
                self._release(dbapi_connection)

        return run_then_release

    def _before_execute(
        self,
        conn: sa.Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if self._holder is dbapi_connection or not _is_write(statement, context):
            return
        try:
            await_(asyncio.wait_for(self.lock.acquire(), WRITE_WAIT_SECONDS))
        except TimeoutError as exc:
            raise sa.exc.OperationalError(statement, None, Exception("database is locked")) from exc
        self._holder = dbapi_connection

    def _release_on_reset(self, dbapi_connection: Any, _record: Any, _reset_state: Any) -> None:
        self._release(dbapi_connection)

    def _release_record(self, dbapi_connection: Any, _record: Any, *_args: Any) -> None:
        self._release(dbapi_connection)

    def _release(self, dbapi_connection: Any) -> None:
        if dbapi_connection is not None and self._holder is dbapi_connection:
            self._holder = None
            self.lock.release()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine configured for the URL's backend."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        _SqliteWriteGate().install(engine)
        return engine
    # No pre-ping: it is a round trip on every checkout (a third of a one-query request). A
    # connection that died with the server fails its request once; that failure invalidates
    # the whole pool, so the next requests reconnect.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        # No JIT: it compiles plans of short OLTP queries for 50-90 ms (seen in the search
        # benchmark's EXPLAIN) and never pays that back at Glint's query sizes.
        connect_args={"timeout": 5, "command_timeout": 30, "server_settings": {"jit": "off"}},
    )


class Database:
    """An engine plus its session factory; the one object domain code gets sessions from."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.read_sessions = self.sessions
        if engine.dialect.name == "postgresql":
            # Reads outside a transaction: no BEGIN and no ROLLBACK round trips. Under READ
            # COMMITTED, which PostgreSQL runs by default, each statement of a transaction sees
            # its own snapshot anyway, so a read-only request sees exactly what it would.
            self.read_sessions = async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
                autoflush=False,
            )

    @property
    def is_sqlite(self) -> bool:
        """True when the backend is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that rolls back on error and always closes."""
        async with self.sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for requests that only read (each statement commits on its own)."""
        async with self.read_sessions() as session:
            yield session

    async def ping(self) -> None:
        """Raise if the database does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Dispose of every pooled connection."""
        await self.engine.dispose()


def is_unique_violation(exc: BaseException) -> bool:
    """True when a database error is a unique-constraint violation, on either backend."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "unique" in text or "duplicate key" in text


async def insert_ignore(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert a row unless it would violate a unique key; True when a row was added.

    The idempotent primitive behind likes, follows and saves: concurrent duplicates race on
    the constraint, exactly one wins, and counters move only for the winner.
    """
    table: Any = model.__table__
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


def dialect_of(session: AsyncSession) -> str:
    """The session's backend: "postgresql" or "sqlite"."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def among(
    session: AsyncSession, column: QueryableAttribute[int], ids: Collection[int]
) -> sa.ColumnElement[bool]:
    """SQL: the column is one of these IDs. On PostgreSQL one array parameter (`= ANY`), so the
    statement is the same for any number of IDs (prepared once, no SQL of thousands of
    placeholders to build); IN elsewhere."""
    if dialect_of(session) == "postgresql":
        return column == sa.any_(sa.literal(list(ids), type_=ARRAY(sa.BigInteger)))
    return column.in_(list(ids))


def among_param(dialect: str, column: QueryableAttribute[int], name: str) -> sa.ColumnElement[bool]:
    """SQL: the column is one of the IDs bound later as `name` (a list), for statements built
    once (`prebuilt`): an array parameter on PostgreSQL, an expanding IN elsewhere."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=ARRAY(sa.BigInteger)))
    return column.in_(sa.bindparam(name, expanding=True))


_PREBUILT: dict[tuple[Callable[[str], Any], str], Any] = {}
S = TypeVar("S", bound=sa.Executable)


def prebuilt(session: AsyncSession, build: Callable[[str], S]) -> S:
    """The statement `build` makes for the session's backend, made once per process.

    Hot paths bind their values as parameters into statements built once: building a
    SELECT with subqueries costs more Python than running it does.
    """
    key = (build, dialect_of(session))
    statement = _PREBUILT.get(key)
    if statement is None:
        statement = _PREBUILT[key] = build(key[1])
    return cast(S, statement)


# The largest ID there can be: `id < MAX_ID` is "no upper bound" for a bound parameter.
MAX_ID = 2**63 - 1


def newest_ids_by_key_statement(
    dialect: str,
    *,
    id_column: QueryableAttribute[int],
    key_column: QueryableAttribute[Any],
    keys: sa.Select[Any] | sa.CompoundSelect[Any],
    where: Sequence[sa.ColumnElement[bool]],
) -> sa.Select[int]:
    """SQL: the `:limit` newest IDs below `:before_id` of the rows whose key is among `keys`.

    On PostgreSQL a LATERAL join walks each key's (key, id) index for its newest rows and
    merges them: one short index scan per key, where a plain IN lets the planner walk the whole
    ID index backwards for a rare key. SQLite has no LATERAL, and its planner does well with IN.
    """
    limit = sa.bindparam("limit", type_=sa.Integer)
    conditions = [*where, id_column < sa.bindparam("before_id", type_=sa.BigInteger)]
    if dialect != "postgresql":
        flat = sa.select(id_column).where(key_column.in_(keys), *conditions)
        return flat.order_by(id_column.desc()).limit(limit)
    wanted = keys.subquery("wanted_keys")
    (wanted_key,) = wanted.c
    per_key = (
        sa.select(id_column.label("id"))
        .where(key_column == wanted_key, *conditions)
        .order_by(id_column.desc())
        .limit(limit)
        .lateral("per_key")
    )
    return (
        sa.select(per_key.c.id)
        .select_from(wanted.join(per_key, sa.true()))
        .order_by(per_key.c.id.desc())
        .limit(limit)
    )


async def newest_ids_by_key(
    session: AsyncSession,
    *,
    id_column: QueryableAttribute[int],
    key_column: QueryableAttribute[int],
    keys: sa.Select[Any] | sa.CompoundSelect[Any],
    where: Sequence[sa.ColumnElement[bool]],
    before_id: int | None,
    limit: int,
) -> list[int]:
    """The `limit` newest IDs (below before_id) of the rows whose key is among `keys`."""
    statement = newest_ids_by_key_statement(
        dialect_of(session), id_column=id_column, key_column=key_column, keys=keys, where=where
    )
    return await newest_ids(session, statement, before_id=before_id, limit=limit)


async def newest_ids(
    session: AsyncSession,
    statement: sa.Select[int],
    *,
    before_id: int | None,
    limit: int,
    **values: Any,
) -> list[int]:
    """Run a statement of `newest_ids_by_key_statement` (Core, on the session's connection)."""
    connection = await session.connection()
    bound = {"before_id": MAX_ID if before_id is None else before_id, "limit": limit, **values}
    return list((await connection.execute(statement, bound)).scalars())


async def lock_transaction(session: AsyncSession, name: str) -> None:
    """Hold a lock named `name` until the transaction ends, so its holders take turns.

    PostgreSQL: a transaction-scoped advisory lock. SQLite has one writer at a time: a caller
    that writes as its first statement after this holds the database's write lock until it
    commits, which serializes it the same way.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(name))))
