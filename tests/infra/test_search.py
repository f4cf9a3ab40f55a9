"""The text index's contract, run against both implementations (SQLite FTS5, PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from glint.infra import search
from glint.infra.runtime import Runtime
from glint.infra.search import PersonDoc, SearchIndex, TextDoc
from glint.schemas import MAX_ID


def _index(runtime: Runtime) -> SearchIndex:
    return search.index_for(runtime.db.engine.dialect.name)


async def _people(runtime: Runtime, text: str) -> set[int]:
    async with runtime.db.session() as session:
        statement = _index(runtime).people_matching(search.words(text))
        return set(await session.scalars(statement))


async def _posts(
    runtime: Runtime, text: str, *, below_id: int = MAX_ID, window: int = 100
) -> list[int]:
    async with runtime.db.session() as session:
        matching = (
            _index(runtime)
            .posts_matching(search.words(text), below_id=below_id, window=window)
            .subquery()
        )
        rows = await session.execute(
            sa.select(matching.c.id).order_by(matching.c.relevance.desc(), matching.c.id.desc())
        )
        return [row_id for (row_id,) in rows]


async def _put(
    runtime: Runtime, people: Sequence[PersonDoc] = (), posts: Sequence[TextDoc] = ()
) -> None:
    async with runtime.db.session() as session:
        await _index(runtime).put_people(session, people)
        await _index(runtime).put_posts(session, posts)
        await session.commit()


def test_fold_drops_case_and_accents_and_words_keep_dotted_names() -> None:
    assert search.fold("Émile ZOLA Ångström straße") == "emile zola angstrom strasse"
    assert search.words('"Émile"* NEAR(zola) -x:y @emile.zola') == [
        "emile",
        "near",
        "zola",
        "x",
        "y",
        "emile.zola",
    ]
    assert search.name_terms("emile.zola_fr", "Émile Zola") == [
        "emile.zola_fr",
        "emile",
        "zola",
        "fr",
    ]


async def test_people_by_prefix_of_any_term_all_words_required(clean_runtime: Runtime) -> None:
    await _put(
        clean_runtime,
        people=[
            PersonDoc(1, "emile.zola", "Émile Zola"),
            PersonDoc(2, "zoe", "Zoë Émond"),
            PersonDoc(3, "bob", ""),
        ],
    )
    assert await _people(clean_runtime, "EMI") == {1}
    assert await _people(clean_runtime, "é") == {1, 2}
    assert await _people(clean_runtime, "zo") == {1, 2}
    assert await _people(clean_runtime, "zoe emo") == {2}
    assert await _people(clean_runtime, "emile.z") == {1}
    assert await _people(clean_runtime, "bobby") == set()


async def test_putting_again_replaces_and_removing_forgets(clean_runtime: Runtime) -> None:
    await _put(clean_runtime, people=[PersonDoc(1, "ann", "Old Name")], posts=[TextDoc(9, "cat")])
    await _put(clean_runtime, people=[PersonDoc(1, "ann", "New Name")], posts=[TextDoc(9, "dog")])
    assert await _people(clean_runtime, "old") == set()
    assert await _people(clean_runtime, "new") == {1}
    assert await _posts(clean_runtime, "cat") == []
    assert await _posts(clean_runtime, "dog") == [9]
    async with clean_runtime.db.session() as session:
        await _index(clean_runtime).remove_people(session, [1])
        await _index(clean_runtime).remove_posts(session, [9])
        await session.commit()
    assert await _people(clean_runtime, "ann") == set()
    assert await _posts(clean_runtime, "dog") == []


async def test_posts_by_stemmed_whole_words_shorter_captions_first(clean_runtime: Runtime) -> None:
    await _put(
        clean_runtime,
        posts=[
            TextDoc(1, "Running along the Seine"),
            TextDoc(2, "runner's high, running " + "filler " * 30),
            TextDoc(3, "Café crème"),
            TextDoc(4, ""),
        ],
    )
    assert await _posts(clean_runtime, "runs") == [1, 2]
    assert await _posts(clean_runtime, "run seine") == [1]
    assert await _posts(clean_runtime, "cafe CREME") == [3]
    assert await _posts(clean_runtime, "ru") == []  # whole words, not prefixes


async def test_posts_in_windows_of_the_newest_matches_below_an_id(
    clean_runtime: Runtime,
) -> None:
    # 1-4 match; the longer captions rank lower within a window.
    captions = {1: "kelp", 2: "kelp " + "x " * 20, 3: "kelp", 4: "kelp " + "y " * 20, 5: "no"}
    await _put(clean_runtime, posts=[TextDoc(pid, text) for pid, text in captions.items()])
    assert await _posts(clean_runtime, "kelp", window=2) == [3, 4]
    assert await _posts(clean_runtime, "kelp", below_id=3, window=2) == [1, 2]
    assert await _posts(clean_runtime, "kelp", below_id=1, window=2) == []


async def test_clear_empties_both(clean_runtime: Runtime) -> None:
    await _put(clean_runtime, people=[PersonDoc(1, "ann", "")], posts=[TextDoc(2, "hello")])
    async with clean_runtime.db.session() as session:
        await _index(clean_runtime).clear(session)
        await session.commit()
    assert await _people(clean_runtime, "ann") == set()
    assert await _posts(clean_runtime, "hello") == []


@pytest.mark.parametrize("seed", range(3))
async def test_any_text_is_a_query_never_syntax(clean_runtime: Runtime, seed: int) -> None:
    await _put(clean_runtime, people=[PersonDoc(1, "ann", "Ann")], posts=[TextDoc(2, "ann")])
    alphabet = "aAé \"*:-^()%_\\'NEAR OR AND NOT{}+|&!~#@.,😀\u202e\x00"
    rng = random.Random(seed)
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        people = await _people(clean_runtime, text)
        posts = await _posts(clean_runtime, text)
        assert people <= {1} and set(posts) <= {2}, text
