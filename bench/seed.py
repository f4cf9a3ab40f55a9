"""`glint bench seed`: a synthetic network for the feed and discovery benchmarks.

Scale-out: PostgreSQL binary COPY (asyncpg) in three processes side by side (graph; posts with
their hashtags; photos and engagement), secondary indexes and foreign-key checks off during the
load, then indexes built and counters computed in SQL. Embedded: the same generator into SQLite
with executemany.

Follows are power-law: followees drawn with weight 1/(rank + 3), so a handful of accounts pass
100,000 followers and ~80 pass the fan-out threshold; each user follows Pareto-many accounts
(mean about 10). One account, `fanout10k`, has exactly 10,000 followers, all active, for the
fan-out measurement.

Text is realistic enough to search: display names are first x last names drawn from a few
hundred of each with a skewed (Zipf-like) popularity, usernames derived from them
(`emma.smith`, `emma_smith4`, `smithemma12`; unique by a counter per base); captions are a few
words of a Zipf-distributed vocabulary plus 0-3 hashtags from a skewed tag vocabulary, with
their `post_hashtags` rows; about 5% of captions are empty. All of it is ASCII. The discovery
tables are filled as the application would have left them: the search index (PostgreSQL: name
terms COPYed as `search.name_terms()` gives them, caption `tsvector`s computed in SQL; SQLite:
the application's own rebuild, as `glint search reindex`), `hashtag_posts`, `hashtags` with
their counts, and the trend tables `hashtag_posters` and `hashtag_days`.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from glint.infra import ids as ids_mod
from glint.infra import search

PASSWORD = "bench-password-1"
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
DAYS = 60
ACTIVE_SHARE = 0.3
FANOUT_FOLLOWERS = 10_000
CHUNK = 50_000

# --- Text: names, captions, hashtags (ASCII only, so fold(text) == lower(text)) ------------


def _words(text: str) -> list[str]:
    return text.split()


# Roughly in order of popularity: the Zipf weights below follow this order.
FIRST_NAMES = list(
    dict.fromkeys(
        _words(
            """
emma olivia liam noah ava sophia james oliver isabella mia william lucas charlotte amelia
benjamin elijah harper evelyn mason logan abigail emily alexander ethan elizabeth sofia jacob
michael madison avery daniel henry ella scarlett jackson sebastian grace chloe aiden matthew
victoria riley samuel david aria lily joseph carter aubrey zoey owen wyatt penelope lillian
john jack addison layla luke jayden natalie camila dylan grayson hannah brooklyn levi isaac
zoe nora gabriel julian leah savannah mateo anthony audrey claire jaxon lincoln eleanor skylar
joshua christopher ellie samantha andrew theodore stella paisley caleb ryan violet mila asher
nathan allison alexa thomas leo anna hazel isaiah charles aaliyah ariana josiah hudson lucy
caroline christian hunter sarah genesis connor eli kennedy sadie ezra aaron gabriella madelyn
landon adrian adeline maya jonathan nolan autumn aurora jeremiah easton piper hailey elias
colton arianna kaylee cameron carson ruby serenity robert angel eva naomi maverick nicholas
nevaeh alice dominic jaxson luna bella greyson adam quinn lydia ian austin peyton melanie
santiago jordan kylie aubree cooper brayden mackenzie kinsley roman evan cora julia ezekiel
xavier taylor katherine jose jace madeline gianna jameson leonardo eliana elena bryson axel
vivian willow everett parker reagan brianna kayden miles clara faith sawyer jason ashley maria
mohamed ahmed ali fatima yuki hiro chen wei mei raj priya arjun ana lucia pedro juan carlos
diego marco luca giulia francesca pierre louis hugo lea marie anne jan lars sven ingrid olga
ivan dmitri anya kofi amara zara omar sara marta tomas nina elif emre kenji sakura ravi anika
"""
        )
    )
)
LAST_NAMES = list(
    dict.fromkeys(
        _words(
            """
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders
patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler
henderson barnes fisher vasquez simmons romero jordan patterson alexander hamilton graham
reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar
stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy
wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter
gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black
robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels ferguson
nichols stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins arnold pierce
hansen peters santos hart bradley knight elliott cunningham duncan armstrong hudson carroll
lane riley andrews alvarado ray delgado berry perkins hoffman johnston matthews pena richards
willis carpenter lawrence sandoval rossi russo ferrari esposito bianchi romano muller schneider
fischer weber becker dubois moreau laurent bernard petit durand leroy wang zhang liu yang huang
zhao zhou sun zhu guo suzuki tanaka watanabe ito yamamoto nakamura kobayashi sato singh kumar
sharma gupta khan ahmed hassan ivanov petrov smirnov kowalski nowak novak horvat jensen nielsen
larsen andersen johansson karlsson nilsson eriksson yilmaz kaya demir okafor mensah
"""
        )
    )
)
# Caption words, most frequent first: function words (the English stemmer drops them) mixed
# into the head, then a long tail of content words.
CAPTION_WORDS = list(
    dict.fromkeys(
        _words(
            """
the my with and love day in of a this today to life at time new best happy so good beautiful
summer friends weekend night sunset morning fun family coffee photo beach vibes city little
home travel first food sun weather last trip great perfect back nature light favorite sky
walk view dinner look sweet days dog old birthday street water sunday lunch wine art color
cute party road music years mountain finally spring winter autumn fall garden flowers lake
cat park breakfast evening tree forest snow rain sea ocean river island hike bridge bike run
workout gym yoga healthy green blue red gold pink white black shadow reflection window door
kitchen cake pizza burger pasta tea ice cream chocolate bread market shop style outfit dress
shoes hair smile kids baby wedding concert festival game team win match stadium museum gallery
church castle tower train station airport plane hotel pool desert canyon valley hill field
farm horse bird fish boat harbor lighthouse cliff wave sand shell palm tropical paradise
holiday vacation adventure explore journey memories moments weekendvibes throwback golden
hour clouds storm fog mist rainbow stars moon galaxy portrait selfie mirror studio
sketch painting drawing design architecture building skyline downtown alley neon graffiti
vintage retro film analog camera lens bokeh macro texture pattern minimal symmetry contrast
leaves branch blossom tulip rose sunflower lavender cactus succulent fern moss mushroom autumnal
pumpkin harvest apple orange lemon cherry strawberry blueberry peach mango avocado salad soup
sushi ramen tacos curry noodles dumplings croissant bagel pancakes waffles brunch espresso
latte matcha cocktail beer whiskey champagne picnic campfire tent cabin lodge chalet skiing
snowboard surfing sailing kayak canoe fishing climbing marathon cycling tennis football
basketball soccer baseball hockey volleyball golf chess puppy kitten parrot turtle rabbit
squirrel deer fox owl eagle butterfly dragonfly jellyfish dolphin whale seal penguin koala
glacier volcano waterfall geyser fjord lagoon reef marsh meadow prairie tundra savanna jungle
quokka axolotl narwhal okapi pangolin capybara tapir gecko iguana chameleon
"""
        )
    )
)
HASHTAGS = list(
    dict.fromkeys(
        _words(
            """
love instagood photooftheday fashion beautiful happy cute travel tbt like4like followme
picoftheday selfie summer art instadaily friends repost nature girl fun style smile food
instalike family travelgram fitness igers tagsforlikes nofilter life beauty amazing
instagram photography photo vscocam sun music beach followforfollow bestoftheday sky ootd
sunset dog cat foodporn hair makeup pretty swag party cool lol baby funny healthy motivation
gym nyc london paris tokyo berlin rome sydney wanderlust adventure hiking mountains ocean
coffee brunch vegan yummy dessert pizza sushi wine cocktails weekend sundayfunday mondaymood
throwbackthursday flashbackfriday goldenhour streetphotography architecture blackandwhite
portrait landscape macro filmisnotdead 35mm analog minimalism urban skyline cityscape
roadtrip vanlife camping surfing skiing yoga running cycling marathon crossfit workout
gardening plants flowers succulents bookstagram reading writing poetry quotes inspiration
handmade diy crafts knitting pottery painting drawing illustration design interiordesign
homedecor cozy autumn winter spring christmas halloween newyear birthday wedding engaged
babyshower puppy kitten catsofinstagram dogsofinstagram petstagram birds wildlife
"""
        )
    )
)


class Texts:
    """Skewed draws of names, caption words and hashtags (Zipf-like weights by rank)."""

    def __init__(self) -> None:
        self.first = _cumulative(len(FIRST_NAMES), 0.6)
        self.last = _cumulative(len(LAST_NAMES), 0.6)
        self.words = _cumulative(len(CAPTION_WORDS), 1.0)
        self.tags = _cumulative(len(HASHTAGS), 1.0)
        self._taken: dict[str, int] = {}

    def person(self, rng: random.Random) -> tuple[str, str]:
        """(username, display name): `emma.smith`, `emma_smith4`, `smithemma12`, ... (unique
        in one generator: a counter per base); one in ten without a display name."""
        first = rng.choices(FIRST_NAMES, cum_weights=self.first)[0]
        last = rng.choices(LAST_NAMES, cum_weights=self.last)[0]
        style = rng.random()
        if style < 0.5:
            base = f"{first}.{last}"
        elif style < 0.7:
            base = f"{first}_{last}"
        elif style < 0.85:
            base = f"{first}{last}"
        else:
            base = f"{last}{first}"
        number = self._taken.get(base, 0)
        self._taken[base] = number + 1
        name = (base if number == 0 else f"{base}{number}")[:30]
        display = "" if rng.random() < 0.1 else f"{first.capitalize()} {last.capitalize()}"
        return name, display

    def captions(self, rng: random.Random, count: int) -> list[tuple[str, list[str]]]:
        """`count` (caption, its hashtags): 2-7 words and 0-3 distinct hashtags; 5% empty
        (drawn a batch at a time: this is the seed's hottest loop)."""
        lengths = rng.choices(range(2, 8), k=count)
        tag_counts = rng.choices((0, 1, 2, 3), cum_weights=(35, 70, 90, 100), k=count)
        empty = rng.choices((True, False), cum_weights=(5, 100), k=count)
        words = rng.choices(CAPTION_WORDS, cum_weights=self.words, k=sum(lengths))
        tags = rng.choices(HASHTAGS, cum_weights=self.tags, k=sum(tag_counts))
        out: list[tuple[str, list[str]]] = []
        at_word = at_tag = 0
        for length, tag_count, blank in zip(lengths, tag_counts, empty, strict=True):
            text = " ".join(words[at_word : at_word + length])
            chosen = list(dict.fromkeys(tags[at_tag : at_tag + tag_count]))
            at_word += length
            at_tag += tag_count
            if blank:
                out.append(("", []))
            elif chosen:
                out.append((text + " #" + " #".join(chosen), chosen))
            else:
                out.append((text, chosen))
        return out


def _cumulative(count: int, exponent: float) -> list[float]:
    total, cumulative = 0.0, []
    for rank in range(count):
        total += 1.0 / (rank + 1) ** exponent
        cumulative.append(total)
    return cumulative


@dataclass(frozen=True)
class Plan:
    """What to build."""

    users: int
    posts: int
    likes: int
    comments: int
    seed: int = 7

    @property
    def fanout_author(self) -> int:
        """Index of the account with exactly FANOUT_FOLLOWERS active followers."""
        return self.users - 1


def user_id(index: int) -> int:
    """Users' IDs: time-ordered like real ones, 1 ms apart from the epoch on."""
    return ((index + 1) << ids_mod.TIME_SHIFT) | 1


def is_active(index: int) -> bool:
    """About 30% of accounts signed in lately (deterministic, so every process agrees)."""
    return (index * 2654435761) % 1000 < ACTIVE_SHARE * 1000


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()
        self._shown = 0.0

    def add(self, count: int) -> None:
        """Count rows done and redraw at most a few times a second."""
        self.done += count
        now = time.monotonic()
        if now - self._shown > 0.5 or self.done >= self.total:
            self._shown = now
            share = self.done / max(self.total, 1)
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.started, 1e-6)
            sys.stderr.write(
                f"\r{self.label:<10} [{bar:<30}] {self.done:>11,}/{self.total:,} {rate:>9,.0f}/s"
            )
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _popularity(users: int) -> list[float]:
    """Cumulative followee weights 1/(rank + 3) over user indexes (index = rank)."""
    total, cumulative = 0.0, []
    for rank in range(users):
        total += 1.0 / (rank + 3)
        cumulative.append(total)
    return cumulative


def follow_rows(plan: Plan, now: dt.datetime) -> Iterator[tuple[Any, ...]]:
    """(follower_id, followee_id, id, created_at) rows."""
    rng = random.Random(plan.seed)
    cumulative = _popularity(plan.users - 1)  # the fan-out account gets only its own followers
    top = cumulative[-1]
    edge = 0
    base = ids_mod.min_id_at(now - dt.timedelta(days=DAYS + 30))
    created = now - dt.timedelta(days=DAYS)
    active = [i for i in range(plan.users - 1) if is_active(i)]
    wanted = min(FANOUT_FOLLOWERS, len(active))
    fanout_followers = set(rng.sample(active, wanted))
    for follower in range(plan.users):
        count = min(int(rng.paretovariate(1.5) * 3.4), 2000, plan.users - 2)
        followees: set[int] = set()
        while len(followees) < count:
            pick = bisect.bisect_left(cumulative, rng.random() * top)
            if pick != follower:
                followees.add(pick)
        if follower in fanout_followers:
            followees.add(plan.fanout_author)
        for followee in followees:
            edge += 1
            yield (user_id(follower), user_id(followee), base + edge, created)


USER_COLUMNS = [
    "id",
    "username",
    "email",
    "password_hash",
    "display_name",
    "bio",
    "website",
    "is_private",
    "role",
    "avatar_key",
    "follower_count",
    "following_count",
    "post_count",
    "created_at",
    "last_active_at",
    "banned_at",
    "deleted_at",
]


def post_id(index: int, plan: Plan, now: dt.datetime) -> int:
    """Posts spread evenly over the last DAYS days, oldest first; IDs unique and time-ordered."""
    start_ms = int((now - dt.timedelta(days=DAYS) - ids_mod.EPOCH).total_seconds() * 1000)
    span_ms = DAYS * 86_400_000
    ms = start_ms + index * span_ms // plan.posts
    return (ms << ids_mod.TIME_SHIFT) | (index & ((1 << ids_mod.TIME_SHIFT) - 1))


def engagement(plan: Plan) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(post index, user index) of likes and of comments, newer posts favoured."""
    rng = random.Random(plan.seed + 1)

    def pick_post() -> int:
        # Skewed towards recent posts: most engagement happens in a post's first days.
        return plan.posts - 1 - int(rng.expovariate(1.0) * plan.posts / 6) % plan.posts

    likes: set[tuple[int, int]] = set()
    while len(likes) < plan.likes:
        likes.add((pick_post(), rng.randrange(plan.users)))
    comments = [(pick_post(), rng.randrange(plan.users)) for _ in range(plan.comments)]
    return sorted(likes), comments


def post_author(index: int, plan: Plan, rng: random.Random) -> int:
    """Authors: mostly anyone, somewhat more often the popular ones."""
    if rng.random() < 0.2:
        return min(int(rng.paretovariate(1.1)) - 1, plan.users - 1)
    return rng.randrange(plan.users)


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


# A stream loads one or more tables from one pass of a generator: it yields batches of
# (table, columns, rows, units done), units counting towards its progress bar.
Batch = tuple[str, list[str], list[tuple[Any, ...]], int]
Stream = tuple[str, int, Callable[[], Iterator[Batch]]]


def _table(
    table: str, columns: list[str], rows: Callable[[], Iterator[tuple[Any, ...]]], total: int
) -> Stream:
    def batches() -> Iterator[Batch]:
        for chunk in _chunks(rows()):
            yield table, columns, chunk, len(chunk)

    return table, total, batches


def users_stream(plan: Plan, now: dt.datetime, password_hash: str, *, terms: bool) -> Stream:
    """Users, and (`terms`) their rows of the PostgreSQL name index, `search.name_terms()`
    exactly as the application writes them (every seeded account is active)."""

    def batches() -> Iterator[Batch]:
        rng = random.Random(plan.seed + 3)
        texts = Texts()
        long_ago = now - dt.timedelta(days=400)
        for start in range(0, plan.users, CHUNK):
            rows: list[tuple[Any, ...]] = []
            term_rows: list[tuple[Any, ...]] = []
            for index in range(start, min(start + CHUNK, plan.users)):
                name, display = texts.person(rng)
                if index == plan.fanout_author:
                    name, display = "fanout10k", "Fanout Bench"
                last_active = now - dt.timedelta(hours=1) if is_active(index) else long_ago
                uid = user_id(index)
                row = (
                    uid, name, f"{name}@bench.example", password_hash, display, "", "",
                    index % 20 == 7,  # 5% private
                    "user", None, 0, 0, 0, long_ago, last_active, None, None,
                )  # fmt: skip
                rows.append(row)
                if terms:
                    term_rows.extend((term[:100], uid) for term in search.name_terms(name, display))
            yield "users", USER_COLUMNS, rows, len(rows)
            if term_rows:
                yield search.PG_TERMS, ["term", "person_id"], term_rows, 0

    return "users", plan.users, batches


def _engagement_counts(
    plan: Plan, likes: list[tuple[int, int]], comments: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    like_counts = [0] * plan.posts
    comment_counts = [0] * plan.posts
    for post, _ in likes:
        like_counts[post] += 1
    for post, _ in comments:
        comment_counts[post] += 1
    return like_counts, comment_counts


def posts_stream(plan: Plan, now: dt.datetime, *, hashtag_posts: bool) -> Stream:
    """Posts, their `post_hashtags` rows and (`hashtag_posts`) the hashtag index's rows, in one
    pass (captions and authors are drawn once)."""

    def batches() -> Iterator[Batch]:
        like_counts, comment_counts = _engagement_counts(plan, *engagement(plan))
        fanout_every = max(plan.posts // 50, 1)
        rng = random.Random(plan.seed + 2)
        text_rng = random.Random(plan.seed + 5)
        texts = Texts()
        for start in range(0, plan.posts, CHUNK):
            captions = texts.captions(text_rng, min(CHUNK, plan.posts - start))
            rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            indexed: list[tuple[Any, ...]] = []
            for index in range(start, min(start + CHUNK, plan.posts)):
                pid = post_id(index, plan, now)
                created = ids_mod.created_at(pid)
                author = post_author(index, plan, rng)
                if index % fanout_every == 0:
                    author = plan.fanout_author
                caption, tags = captions[index - start]
                row = (
                    pid, user_id(author), caption, None, None, None, None, "published", None,
                    like_counts[index], comment_counts[index], False, created, None, created,
                )  # fmt: skip
                rows.append(row)
                tag_rows.extend((pid, tag) for tag in tags)
                if hashtag_posts:
                    indexed.extend((tag, pid, user_id(author)) for tag in tags)
            yield "posts", POST_COLUMNS, rows, len(rows)
            yield "post_hashtags", ["post_id", "tag"], tag_rows, 0
            if indexed:
                yield "hashtag_posts", ["tag", "post_id", "author_id"], indexed, 0

    return "posts", plan.posts, batches


def engagement_streams(plan: Plan, now: dt.datetime) -> list[Stream]:
    """Photos, likes and comments."""
    likes, comments = engagement(plan)

    def media() -> Iterator[tuple[Any, ...]]:
        for index in range(plan.posts):
            pid = post_id(index, plan, now)
            yield (
                pid, pid, 0, f"originals/bench/{pid}", f"bench/{pid}", None, 1080, 1080,
                BLURHASH, ids_mod.created_at(pid),
            )  # fmt: skip

    def like_rows() -> Iterator[tuple[Any, ...]]:
        base = ids_mod.min_id_at(now) + (1 << 41)
        for number, (post, user) in enumerate(likes):
            pid = post_id(post, plan, now)
            yield (pid, user_id(user), base + number, ids_mod.created_at(pid))

    def comment_rows() -> Iterator[tuple[Any, ...]]:
        base = ids_mod.min_id_at(now) + (1 << 40)
        for number, (post, user) in enumerate(comments):
            pid = post_id(post, plan, now)
            yield (base + number, pid, user_id(user), None, "nice", 0, ids_mod.created_at(pid))

    return [
        _table("post_media", MEDIA_COLUMNS, media, plan.posts),
        _table("post_likes", ["post_id", "user_id", "id", "created_at"], like_rows, len(likes)),
        _table("comments", COMMENT_COLUMNS, comment_rows, len(comments)),
    ]


POST_COLUMNS = [
    "id",
    "author_id",
    "caption",
    "location_name",
    "location_lat",
    "location_lng",
    "filter",
    "status",
    "failure_reason",
    "like_count",
    "comment_count",
    "comments_disabled",
    "created_at",
    "edited_at",
    "published_at",
]
MEDIA_COLUMNS = [
    "id",
    "post_id",
    "position",
    "original_key",
    "base_key",
    "alt_text",
    "width",
    "height",
    "blurhash",
    "processed_at",
]
COMMENT_COLUMNS = ["id", "post_id", "author_id", "parent_id", "text", "like_count", "created_at"]
FOLLOW_COLUMNS = ["follower_id", "followee_id", "id", "created_at"]


def part_streams(
    part: str, plan: Plan, now: dt.datetime, password_hash: str, *, scaleout: bool
) -> list[Stream]:
    """The streams of one loading process: "graph" (users, follows), "posts" (posts and their
    hashtags) or "engagement" (photos, likes, comments)."""
    if part == "graph":
        return [
            users_stream(plan, now, password_hash, terms=scaleout),
            _table("follows", FOLLOW_COLUMNS, lambda: follow_rows(plan, now), plan.users * 10),
        ]
    if part == "posts":
        return [posts_stream(plan, now, hashtag_posts=scaleout)]
    return engagement_streams(plan, now)


PARTS = ("graph", "posts", "engagement")


async def _copy_streams(dsn: str, streams: list[Stream]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # Foreign-key triggers off for the bulk load (the generator keeps references whole).
        await conn.execute("SET session_replication_role = replica")
        for label, total, batches in streams:
            progress = Progress(label, total)
            for table, columns, rows, units in batches():
                if rows:
                    await conn.copy_records_to_table(table, records=rows, columns=columns)
                progress.add(units)
            if progress.done < progress.total:
                progress.total = progress.done
                progress.add(0)
    finally:
        await conn.close()


def _load_part(dsn: str, part: str, plan: Plan, now: dt.datetime, password_hash: str) -> None:
    asyncio.run(_copy_streams(dsn, part_streams(part, plan, now, password_hash, scaleout=True)))


def load_postgres(dsn: str, plan: Plan, now: dt.datetime, password_hash: str) -> None:
    """COPY the three parts at once, one process each (the generator is the slow part)."""
    with ProcessPoolExecutor(max_workers=len(PARTS)) as pool:
        futures = [pool.submit(_load_part, dsn, part, plan, now, password_hash) for part in PARTS]
        for future in futures:
            future.result()


COUNTER_SQL = [
    "UPDATE users u SET follower_count = c.n FROM (SELECT followee_id AS id, count(*) AS n "
    "FROM follows GROUP BY followee_id) c WHERE u.id = c.id",
    "UPDATE users u SET following_count = c.n FROM (SELECT follower_id AS id, count(*) AS n "
    "FROM follows GROUP BY follower_id) c WHERE u.id = c.id",
    "UPDATE users u SET post_count = c.n FROM (SELECT author_id AS id, count(*) AS n "
    "FROM posts GROUP BY author_id) c WHERE u.id = c.id",
]
SQLITE_COUNTER_SQL = [
    "UPDATE users SET follower_count = (SELECT count(*) FROM follows WHERE followee_id = users.id)",
    "UPDATE users SET following_count = "
    "(SELECT count(*) FROM follows WHERE follower_id = users.id)",
    "UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE author_id = users.id)",
]
LOADED = (
    "users",
    "follows",
    "posts",
    "post_hashtags",
    "post_media",
    "post_likes",
    "comments",
    "hashtag_posts",
)
# Primary keys that the load would fill in random order: dropped for the COPY, added after.
# (Primary keys the load fills in key order stay: appending to a B-tree is cheap.)
RANDOM_ORDER_KEYS = {
    search.PG_TERMS: ("search_person_terms_pkey", "term, person_id"),
    "hashtag_posts": ("pk_hashtag_posts", "tag, post_id"),
}
# The text index's own indexes (it is not a model: glint/infra/search.py PG_DDL).
SEARCH_INDEXES = (
    f"CREATE INDEX ix_{search.PG_TERMS}_person_id ON {search.PG_TERMS} (person_id)",
    f"CREATE INDEX ix_{search.PG_POSTS}_document ON {search.PG_POSTS} USING gin (document)",
)
# The caption index exactly as `PostgresSearchIndex.put_posts` writes it: to_tsvector('english',
# fold(caption)) for published posts with a caption. The seeded text is ASCII, so fold() (NFKD,
# no combining marks, casefold) is lower() here. Run per ID range, two at once.
SEARCH_POSTS_SQL = (
    f"INSERT INTO {search.PG_POSTS} (post_id, document) "  # noqa: S608
    f"SELECT id, to_tsvector('{search.PG_CONFIG}', lower(caption)) FROM posts "
    "WHERE status = 'published' AND btrim(caption) <> '' AND id >= $1 AND id < $2 ORDER BY id"
)
HOUR_OF_ID = f"(({ids_mod.EPOCH_MS} + (post_id >> {ids_mod.TIME_SHIFT})) / 3600000)::int"
HASHTAG_SQL = [
    # recount_hashtags (glint/discovery/indexing.py): each tag's count of indexed posts.
    "INSERT INTO hashtags (tag, post_count, created_at) "
    "SELECT tag, count(*), now() FROM hashtag_posts GROUP BY tag",
    # Trends (glint/discovery/trends.py): each author's last hour with a tag, and distinct
    # posters per tag and day, as record_uses would have left them (hour from the post's ID).
    f"INSERT INTO hashtag_posters (tag, author_id, last_hour) "  # noqa: S608
    f"SELECT tag, author_id, max({HOUR_OF_ID}) FROM hashtag_posts GROUP BY tag, author_id",
    f"INSERT INTO hashtag_days (tag, day, posters) "  # noqa: S608
    f"SELECT tag, {HOUR_OF_ID} / 24, count(DISTINCT author_id) FROM hashtag_posts "
    f"GROUP BY 1, 2",
]


def _secondary_indexes() -> list[Any]:
    from glint import models_registry

    metadata = models_registry.metadata()
    return [index for name in LOADED for index in metadata.tables[name].indexes if not index.unique]


async def prepare_postgres(admin_dsn: str, database: str) -> str:
    """A fresh, migrated database without its secondary indexes; its SQLAlchemy URL."""
    import asyncpg

    from glint import migrate

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    url = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{url}/{database}"
    await migrate.upgrade_async(url)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for index in _secondary_indexes():
            await conn.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        for statement in SEARCH_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
        for table, (key, _) in RANDOM_ORDER_KEYS.items():
            await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {key}")
    finally:
        await conn.close()
    return url


async def _index_captions(dsn: str) -> None:
    """search_posts from the captions, the ID range split in two halves run at once."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        low, high = await conn.fetchrow("SELECT min(id), max(id) FROM posts")
    finally:
        await conn.close()
    if low is None:
        return
    middle = (low + high) // 2

    async def run(start: int, stop: int) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(SEARCH_POSTS_SQL, start, stop)
        finally:
            await conn.close()

    await asyncio.gather(run(low, middle), run(middle, high + 1))


async def finish_postgres(dsn: str) -> None:
    """Build the indexes, compute the counters, fill the discovery tables, analyze."""
    import asyncpg
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    def timed(what: str, started: float) -> None:
        print(f"{what}: {time.monotonic() - started:.1f} s", file=sys.stderr)

    started = time.monotonic()
    await _index_captions(dsn)
    timed(f"caption tsvectors ({search.PG_POSTS})", started)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 2")
        for index in _secondary_indexes():
            started = time.monotonic()
            await conn.execute(str(CreateIndex(index).compile(dialect=postgresql.dialect())))
            timed(f"index {index.name}", started)
        for table, (key, columns) in RANDOM_ORDER_KEYS.items():
            started = time.monotonic()
            await conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {key} PRIMARY KEY ({columns})")
            timed(f"primary key {key}", started)
        for statement in SEARCH_INDEXES:
            started = time.monotonic()
            await conn.execute(statement)
            timed(f"index {statement.split()[2]}", started)
        started = time.monotonic()
        for statement in COUNTER_SQL:
            await conn.execute(statement)
        timed("counters", started)
        started = time.monotonic()
        for statement in HASHTAG_SQL:
            await conn.execute(statement)
        timed("hashtags and trends", started)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def seed_postgres(admin_dsn: str, database: str, plan: Plan) -> dict[str, Any]:
    """The whole scale-out seed; timings by phase."""
    from glint.accounts import passwords

    now = dt.datetime.now(dt.UTC)
    password_hash = await passwords.hash_password(PASSWORD, memory_kib=1024, time_cost=1)
    timings: dict[str, Any] = {}
    started = time.monotonic()
    url = await prepare_postgres(admin_dsn, database)
    timings["prepare_s"] = round(time.monotonic() - started, 1)
    phase = time.monotonic()
    dsn = url.replace("+asyncpg", "")
    await asyncio.to_thread(load_postgres, dsn, plan, now, password_hash)
    timings["copy_s"] = round(time.monotonic() - phase, 1)
    phase = time.monotonic()
    await finish_postgres(dsn)
    timings["index_and_counters_s"] = round(time.monotonic() - phase, 1)
    timings["total_s"] = round(time.monotonic() - started, 1)
    return {"database_url": url, **timings}


async def seed_sqlite(data_dir: str, plan: Plan) -> dict[str, Any]:
    """The embedded seed: the same rows into the data folder's SQLite database, then the
    application's own search rebuild (FTS5, hashtag_posts, hashtags)."""
    import pathlib

    import aiosqlite

    from glint import migrate
    from glint.accounts import passwords

    folder = pathlib.Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "glint.db"
    for suffix in ("", "-wal", "-shm"):
        pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    started = time.monotonic()
    await migrate.upgrade_async(url)
    now = dt.datetime.now(dt.UTC)
    password_hash = await passwords.hash_password(PASSWORD, memory_kib=1024, time_cost=1)
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=OFF")
        await db.execute("PRAGMA foreign_keys=OFF")
        streams = [
            stream
            for part in PARTS
            for stream in part_streams(part, plan, now, password_hash, scaleout=False)
        ]
        for label, total, batches in streams:
            progress = Progress(label, total)
            for table, columns, rows, units in batches():
                marks = ", ".join("?" for _ in columns)
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                await db.executemany(statement, [tuple(map(_sqlite_value, row)) for row in rows])
                progress.add(units)
            if progress.done < progress.total:
                progress.total = progress.done
                progress.add(0)
        for statement in SQLITE_COUNTER_SQL:
            await db.execute(statement)
        await db.commit()
    loaded_s = time.monotonic() - started
    await _rebuild_search_sqlite(url)
    async with aiosqlite.connect(path) as db:
        await _sqlite_trends(db)
        await db.commit()
        await db.execute("ANALYZE")
    return {
        "database_url": url,
        "load_s": round(loaded_s, 1),
        "search_rebuild_s": round(time.monotonic() - started - loaded_s, 1),
        "total_s": round(time.monotonic() - started, 1),
    }


async def _rebuild_search_sqlite(url: str) -> None:
    """The FTS5 index, hashtag_posts and hashtags by the application's own rebuild (what
    `glint search reindex` runs)."""
    import shutil
    import tempfile
    from pathlib import Path

    from glint.config import Settings
    from glint.discovery import indexing
    from glint.infra import runtime as runtime_mod

    data_dir = Path(tempfile.mkdtemp(prefix="glint-bench-seed-"))
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="bench-seed-" + "x" * 40,
        log_level="warning",
    )
    runtime = await runtime_mod.start(settings)
    bars: dict[str, Progress] = {}

    def show(what: str, done: int, total: int) -> None:
        bar = bars.setdefault(what, Progress(f"fts {what}", total))
        bar.add(done - bar.done)

    try:
        await indexing.rebuild_all(runtime.db, batch=5_000, on_progress=show)
    finally:
        await runtime.close()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _sqlite_trends(db: Any) -> None:
    """hashtag_posters and hashtag_days as on PostgreSQL (HASHTAG_SQL)."""
    for statement in HASHTAG_SQL[1:]:
        await db.execute(statement.replace("::int", ""))


def _sqlite_value(value: Any) -> Any:
    # The app stores timestamps as ISO text in SQLite (SQLAlchemy's DateTime format).
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value
