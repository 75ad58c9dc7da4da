"""Normalise names and find the rows that belong to the same signer.

Why this is careful: the published number is *unique people*. Merging two
different people under-counts; missing a duplicate over-counts. So:

* exact duplicates share a transliterated name key, and probable duplicates
  have names that differ only by letters the recognizer tends to confuse
  (O/Q/D, I/J/L, U/V, M/N, B/R/P, E/F) or by one other letter;
* a filled workplace or town that differs keeps two rows apart (namesakes);
* every merge carries a reason, automatic decisions are recomputed on every
  run, and a person's decision (``decide_duplicate``) always wins.

The work is done on pandas frames and on unique name keys, with blocking, so
a million rows stay fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from petitionscan import store
from petitionscan.errors import UsageError

# --- normalising --------------------------------------------------------------

_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad\ufe63\uff0d"
_APOSTROPHES = "\u2019\u2018\u201b\u02bc\u02b9\u0060\u00b4\u2032\uff07"
_PUNCT_TABLE = str.maketrans({**{c: "-" for c in _HYPHENS}, **{c: "'" for c in _APOSTROPHES}})
_SPACE_AROUND_HYPHEN = re.compile(r"\s*-\s*")
_NOT_KEY = re.compile(r"[^A-Z0-9 ]+")
# German transcriptions: MUELLER and MÜLLER (anyascii: MULLER) get one key.
_DIGRAPHS = (("UE", "U"), ("OE", "O"), ("AE", "A"))
# Cyrillic letters onto the letter most Latin spellings follow, before transliterating:
# the Kazakh letters (Ү Ұ -> U, Қ -> K, Ғ -> G, Ң -> N, Ә -> A, Ө -> O, Һ -> H, І -> I),
# Й and Ы as I, Ё and Э as E; the soft and hard signs are left out, as in most Latin spellings.
_CYRILLIC_FOLD = str.maketrans(
    {"Ү": "У", "Ұ": "У", "Қ": "К", "Ғ": "Г", "Ң": "Н", "Ә": "А", "Ө": "О", "Һ": "Х", "І": "И",
     "Й": "И", "Ы": "И", "Ё": "Е", "Э": "Е", "Ь": None, "Ъ": None}
)  # fmt: skip
# Latin spellings of one Cyrillic name, folded onto one (in this order, repeated until
# stable): ZH / DZH / J (Ж, ДЖ), KH / H (Х), GH / G (Ғ), X / KS, Y / I (Й, Ы: AYGUL =
# AIGUL), the Y of an iotated E (YERLAN = ERLAN, BAYEV = BAEV), II / I; and Q / K (Қ)
# in the match key only (see ``loose_key``).
_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"DZH|ZH", "J"),
        (r"KH", "H"),
        (r"GH", "G"),
        (r"X", "KS"),
        (r"(^|[AEIOU ])YE", r"\1E"),
        (r"Y", "I"),
        (r"II", "I"),
    )
)
_Q = (re.compile("Q"), "K")

# Letters the handwriting recognizer mixes up, folded onto one representative.
CONFUSIONS: tuple[str, ...] = ("OQD0", "IJL1", "UV", "MN", "BRP8", "EF")
_CONFUSION_TABLE = str.maketrans({c: group[0] for group in CONFUSIONS for c in group[1:]})

# Shortest confusion key (without spaces) for a probable match: two-letter
# differences between short names are too often two different people.
MIN_PROBABLE_LEN = 6
MAX_FUZZY_DISTANCE = 1


def normalize_name(text: str) -> str:
    """The name as it is shown and compared: NFC, capitals, one space, plain ``-`` and ``'``.

    The original text is kept elsewhere; this is idempotent and ignores case.
    """
    text = unicodedata.normalize("NFC", text)
    text = unicodedata.normalize("NFC", text.casefold().upper())
    text = text.translate(_PUNCT_TABLE)
    text = " ".join(text.split())
    return _SPACE_AROUND_HYPHEN.sub("-", text)


@lru_cache(maxsize=200_000)
def match_key(text: str) -> str:
    """A transliterated key: АЙГҮЛ, AIGUL and AYGUL match, as do ЖАНАР, ZHANAR and JANAR,
    ҚАЙРАТ, QAIRAT and KAIRAT, and MÜLLER, MUELLER and MULLER.

    Apostrophes vanish (O'BRIEN = OBRIEN) and hyphens become spaces
    (SMITH-JONES = SMITH JONES), because the recognizer often misses them.
    The key is for comparing, not for showing: ЖАНАР's is JANAR.
    """
    return _spelling_key(text, fold_q=True)


@lru_cache(maxsize=200_000)
def loose_key(text: str) -> str:
    """The match key with Q kept: confusion keys are built on it, since the reader
    mistakes O for Q (OLGA read QLGA), a likeness that folding Q into K would hide."""
    return _spelling_key(text, fold_q=False)


def _spelling_key(text: str, fold_q: bool) -> str:
    ascii_text = anyascii(normalize_name(text).replace("'", "").translate(_CYRILLIC_FOLD)).upper()
    ascii_text = " ".join(_NOT_KEY.sub(" ", ascii_text).split())
    spellings = (*_SPELLINGS, _Q) if fold_q else _SPELLINGS
    # Repeat until stable (AEE -> AE -> A, IIY -> III -> I), so the key of a key is the key.
    while True:
        before = ascii_text
        for pattern, repl in spellings:
            ascii_text = pattern.sub(repl, ascii_text)
        for digraph, single in _DIGRAPHS:
            ascii_text = ascii_text.replace(digraph, single)
        if ascii_text == before:
            return ascii_text


# Two readings of one serial are the same paper (a re-scan) when most written
# rows read alike; a photocopied blank sheet filled by other people reads
# differently almost everywhere. Readings of one paper differ by a few letters
# (another scan, another engine), hence a fuzzy comparison of match keys.
SAME_PAPER_NAME_RATIO = 75.0
SAME_PAPER_SHARE = 0.6


def same_paper(ours: dict[int, str], theirs: dict[int, str]) -> bool:
    """Whether two readings of one sheet serial (row number -> name, "" for blank) are one paper."""
    from rapidfuzz import fuzz

    compared = agreed = 0
    for row_no in set(ours) | set(theirs):
        a, b = match_key(ours.get(row_no, "")), match_key(theirs.get(row_no, ""))
        if not a and not b:
            continue
        compared += 1
        if a and b and (a == b or confusion_key(a) == confusion_key(b) or fuzz.ratio(a, b) >= SAME_PAPER_NAME_RATIO):
            agreed += 1
    return compared == 0 or agreed >= SAME_PAPER_SHARE * compared


def confusion_key(key: str) -> str:
    """Fold a match key's confusable letters, so misread names collide."""
    return key.translate(_CONFUSION_TABLE)


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Why two rows were merged or kept apart; ``decided_by`` is None when automatic."""

    row_a: int
    row_b: int
    same: bool
    reason: str
    decided_by: str | None = None


@dataclass(frozen=True)
class DedupeResult:
    """One line per counted row: the signer (``signer`` = the kept row's id) and why.

    ``match`` is '' for kept rows, else 'exact', 'probable' or 'person'.
    ``conflicts`` lists people's decisions that contradict each other.
    """

    rows: pd.DataFrame
    decisions: tuple[Decision, ...]
    conflicts: tuple[str, ...] = field(default=())

    @property
    def unique(self) -> int:
        return int((~self.rows["is_duplicate"]).sum())

    @property
    def duplicates(self) -> int:
        return int(self.rows["is_duplicate"].sum())


# --- clustering ---------------------------------------------------------------


class _Clusters:
    """Union-find over row positions that refuses merges joining two namesakes."""

    def __init__(self, workplace: Sequence[str], town: Sequence[str]) -> None:
        self.parent: dict[int, int] = {}
        self.workplace: dict[int, str] = {}
        self.town: dict[int, str] = {}
        self.forbid: dict[int, set[int]] = {}
        self._wp = workplace
        self._town = town

    def find(self, i: int) -> int:
        parent = self.parent
        if i not in parent:
            parent[i] = i
            self.workplace[i] = self._wp[i]
            self.town[i] = self._town[i]
            return i
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def conflict(self, a: int, b: int) -> str | None:
        """Why clusters ``a`` and ``b`` (roots) cannot be one person, or None."""
        wa, wb = self.workplace[a], self.workplace[b]
        if wa and wb and wa != wb:
            return "different workplace"
        ta, tb = self.town[a], self.town[b]
        if ta and tb and ta != tb:
            return "different town"
        return self.forbidden(a, b)

    def forbidden(self, a: int, b: int) -> str | None:
        fa, fb = self.forbid.get(a), self.forbid.get(b)
        if fa and any(self.find(x) == b for x in fa):
            return "a person decided they differ"
        if fb and any(self.find(x) == a for x in fb):
            return "a person decided they differ"
        return None

    def union(self, a: int, b: int, *, force: bool = False, evidence: int = 0) -> str | None:
        """Merge the clusters of rows ``a`` and ``b``; return why not, or None on success.

        ``force`` (a person decided) skips the workplace and town check.
        Names that only nearly agree need ``evidence``: 1, a workplace or town
        given on both sides and equal; 2, both given and equal.
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        why = self.forbidden(ra, rb) if force else self.conflict(ra, rb)
        if why:
            return why
        if evidence:
            agree = bool(self.workplace[ra] and self.workplace[ra] == self.workplace[rb]) + bool(
                self.town[ra] and self.town[ra] == self.town[rb]
            )
            if agree < evidence:
                return "not enough in common besides the name"
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.workplace[ra] = self.workplace[ra] or self.workplace[rb]
        self.town[ra] = self.town[ra] or self.town[rb]
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        return None

    def peek(self, i: int) -> int:
        """The root of ``i`` without recording ``i`` (rows never merged stay out of the tables)."""
        parent = self.parent
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    def context(self, root: int) -> tuple[str, str]:
        """A cluster's workplace and town (its rows' values, the first given)."""
        return self.workplace.get(root, self._wp[root]), self.town.get(root, self._town[root])

    def attach(self, i: int, root: int) -> None:
        """Put a fresh row ``i`` under ``root`` without checks (same name, same full context)."""
        self.find(root)
        self.parent[i] = root

    def add_forbid(self, a: int, b: int) -> None:
        self.forbid.setdefault(self.find(a), set()).add(b)
        self.forbid.setdefault(self.find(b), set()).add(a)


@lru_cache(maxsize=500_000)
def _word_key(word: str) -> str:
    return _spelling_key(word, fold_q=True)


@lru_cache(maxsize=500_000)
def _loose_word_key(word: str) -> str:
    return _spelling_key(word, fold_q=False)


def fast_match_key(text: str) -> str:
    """``match_key`` built word by word from a cache: the same key, far fewer conversions.

    Every step of ``match_key`` works within words (spaces and hyphens only
    ever separate), so a name's key is its words' keys joined by spaces.
    """
    return " ".join(k for k in map(_word_key, text.replace("-", " ").split()) if k)


def fast_loose_key(text: str) -> str:
    """``loose_key`` word by word, as :func:`fast_match_key`."""
    return " ".join(k for k in map(_loose_word_key, text.replace("-", " ").split()) if k)


def _context_key(values: pd.Series) -> list[str]:
    """Workplace and town compared loosely: case, accents and punctuation ignored."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        keys = [fast_match_key(str(c)) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        return np.asarray([*keys, ""], dtype=object)[codes].tolist()  # code -1 (missing) -> ""
    texts = values.fillna("").astype(str)
    mapping = {v: fast_match_key(v) for v in pd.unique(texts)}
    return [mapping[v] for v in texts]


def _keys(names: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match, loose and confusion keys, computed once per distinct name."""
    codes, uniq = pd.factorize(names.fillna("").astype(str))
    mkeys = [fast_match_key(v) for v in uniq]
    lkeys = [fast_loose_key(v) for v in uniq]
    ckeys = [confusion_key(k) for k in lkeys]
    return tuple(np.asarray(keys, dtype=object)[codes] for keys in (mkeys, lkeys, ckeys))  # type: ignore[return-value]


def _groups(labels: np.ndarray | pd.Series) -> list[np.ndarray]:
    """Positions of every label that occurs more than once, one array per label, in order."""
    codes, _ = pd.factorize(pd.Series(labels), sort=False)
    if len(codes) == 0:
        return []
    counts = np.bincount(codes[codes >= 0])
    multi = np.nonzero((codes >= 0) & (counts[np.maximum(codes, 0)] > 1))[0]
    if len(multi) == 0:
        return []
    order = multi[np.argsort(codes[multi], kind="stable")]
    return np.split(order, np.nonzero(np.diff(codes[order]))[0] + 1)


PAIR_BATCH = 2_000_000


def _pairs_in_blocks(block: Sequence[str], lengths: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs (i < j) of positions sharing a block, lengths at most one apart, in bounded batches.

    Blocks are taken a batch at a time so that a few large blocks never
    build tens of millions of pairs at once.
    """
    codes, _ = pd.factorize(np.asarray(block, dtype=object))
    counts = np.bincount(codes)
    multi = np.nonzero(counts[codes] > 1)[0]
    if len(multi) == 0:
        return
    order = multi[np.argsort(codes[multi], kind="stable")]
    starts = np.nonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])[0]
    ends = np.r_[starts[1:], len(order)]
    cost = (ends - starts).astype(np.int64) ** 2
    first, total = 0, 0
    for block_no in range(len(starts)):
        total += int(cost[block_no])
        if total < PAIR_BATCH and block_no < len(starts) - 1:
            continue
        chunk = order[starts[first] : ends[block_no]]
        members = pd.DataFrame({"b": codes[chunk], "i": chunk})
        pairs = members.merge(members, on="b")
        i, j = pairs["i_x"].to_numpy(), pairs["i_y"].to_numpy()
        keep = (i < j) & (np.abs(lengths[i] - lengths[j]) <= MAX_FUZZY_DISTANCE)
        yield i[keep], j[keep]
        first, total = block_no + 1, 0


def _fuzzy_pairs(ckeys: Sequence[str]) -> set[tuple[str, str]]:
    """Pairs of distinct confusion keys one edit apart, found by blocking.

    One edit changes only one of the two name parts, and leaves either the
    first two or the last two letters of that part alone; so four blocks
    (other part + two letters of this part) find every pair. Pairs within a
    block are compared with ``rapidfuzz``'s Levenshtein distance.
    """
    texts = [k for k in dict.fromkeys(ckeys) if len(k.replace(" ", "")) >= MIN_PROBABLE_LEN]
    if len(texts) < 2:
        return set()
    split = [k.partition(" ") for k in texts]
    first = [f for f, _, _ in split]
    rest = [r for _, _, r in split]
    blocks = (
        lambda: [f"{f}|<{r[:2]}" for f, r in zip(first, rest, strict=True)],
        lambda: [f"{f}|>{r[-2:]}" for f, r in zip(first, rest, strict=True)],
        lambda: [f"{r}|<{f[:2]}" for f, r in zip(first, rest, strict=True)],
        lambda: [f"{r}|>{f[-2:]}" for f, r in zip(first, rest, strict=True)],
    )
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    values = np.asarray(texts, dtype=object)
    found: set[tuple[int, int]] = set()
    for make_block in blocks:  # one at a time: each is a column of new strings
        for i, j in _pairs_in_blocks(make_block(), lengths):
            if len(i) == 0:
                continue
            distance = process.cpdist(
                values[i], values[j], scorer=Levenshtein.distance, score_cutoff=MAX_FUZZY_DISTANCE, dtype=np.int8
            )
            close = distance <= MAX_FUZZY_DISTANCE
            found.update(zip(i[close].tolist(), j[close].tolist(), strict=True))
    return {(min(texts[a], texts[b]), max(texts[a], texts[b])) for a, b in found}


def _differing_letters(a: str, b: str) -> str:
    """'O/Q' style description of where two equal-length keys differ."""
    if len(a) != len(b):
        return "one letter missing or added"
    diffs = sorted({f"{x}/{y}" for x, y in zip(a, b, strict=True) if x != y})
    return ", ".join(diffs)


def _probable_candidates(
    pairs: list[tuple[str, str, str, int]], mkey: np.ndarray, clusters: _Clusters
) -> list[tuple[int, int, str, int]]:
    """Signer pairs worth trying for a near-name merge: a workplace or town equal, none different.

    Built with joins on (name key, workplace) and (name key, town), so common
    names with many namesakes cost no more than rare ones.
    """
    if not pairs:
        return []
    pair_frame = pd.DataFrame(pairs, columns=["ka", "kb", "why", "needed"])
    needed = pd.Series(mkey, dtype=object).isin(set(pair_frame["ka"]) | set(pair_frame["kb"])).to_numpy()
    where = np.nonzero(needed)[0].tolist()
    roots = [clusters.peek(i) for i in where]
    signers = pd.DataFrame(
        {
            "k": mkey[where] if where else np.array([], dtype=object),
            "root": roots,
            "w": [clusters.context(r)[0] for r in roots],
            "t": [clusters.context(r)[1] for r in roots],
        }
    ).drop_duplicates(["k", "root"])
    side_a = pair_frame.merge(signers, left_on="ka", right_on="k")
    found = []
    for same, other in (("w", "t"), ("t", "w")):
        given = signers[signers[same] != ""]
        both = side_a[side_a[same] != ""].merge(
            given, left_on=["kb", same], right_on=["k", same], suffixes=("_a", "_b")
        )
        a, b = both[f"{other}_a"], both[f"{other}_b"]
        found.append(both.loc[(a == b) | (a == "") | (b == ""), ["root_a", "root_b", "why", "needed"]])
    candidates = pd.concat(found, ignore_index=True).drop_duplicates(["root_a", "root_b"])
    candidates = candidates.sort_values(["root_a", "root_b"], kind="stable")
    columns = (candidates[c].tolist() for c in ("root_a", "root_b", "why", "needed"))
    return list(zip(*columns, strict=True))


def find_duplicates(rows: pd.DataFrame, people: Iterable[Decision] = ()) -> DedupeResult:
    """Group counted rows into signers.

    ``rows`` needs columns row_id, name, workplace, town (one line per counted
    row). ``people`` are decisions made by people; they win over automatic
    ones, oldest first, and contradictions among them are reported.
    """
    frame = rows[["row_id", "name", "workplace", "town"]].copy()
    frame = frame.sort_values("row_id", kind="stable").reset_index(drop=True)
    n = len(frame)
    row_ids = frame["row_id"].to_numpy(dtype=np.int64)
    mkey, lkey, ckey = _keys(frame["name"])
    workplace = _context_key(frame["workplace"])
    town = _context_key(frame["town"])
    clusters = _Clusters(workplace, town)
    position = {int(r): i for i, r in enumerate(row_ids.tolist())} if n else {}
    reason: dict[int, tuple[str, str]] = {}
    decisions: list[Decision] = []
    conflicts: list[str] = []

    # 1. People's decisions: "different" first as constraints, then "same".
    people = list(people)
    for d in people:
        a, b = position.get(d.row_a), position.get(d.row_b)
        if a is not None and b is not None and not d.same:
            clusters.add_forbid(a, b)
            decisions.append(d)
    for d in people:
        a, b = position.get(d.row_a), position.get(d.row_b)
        if a is None or b is None or not d.same:
            continue
        why = clusters.union(a, b, force=True)
        if why:
            conflicts.append(f"rows {d.row_a} and {d.row_b}: marked the same by {d.decided_by}, but {why}")
            continue
        decisions.append(d)
        text = f"{d.decided_by} decided rows {d.row_a} and {d.row_b} are one signer"
        reason.setdefault(max(a, b), ("person", text))

    # 2. Exact: same key. Rows that also share a full workplace and town are one
    # signer outright (most duplicates, done in bulk); the rest of each name's
    # rows join the first earlier signer they are compatible with.
    wp_arr, town_arr = np.asarray(workplace, dtype=object), np.asarray(town, dtype=object)
    touched = np.zeros(n, dtype=bool)
    for d in people:
        for row in (d.row_a, d.row_b):
            if row in position:
                touched[position[row]] = True
    full = (mkey != "") & (wp_arr != "") & (town_arr != "") & ~touched
    if full.any():
        where = np.nonzero(full)[0]
        same = pd.DataFrame({"k": mkey[where], "w": wp_arr[where], "t": town_arr[where], "pos": where})
        first_pos = same.groupby(["k", "w", "t"], sort=False)["pos"].transform("min").to_numpy()
        for i, root in zip(where[first_pos != where].tolist(), first_pos[first_pos != where].tolist(), strict=True):
            clusters.attach(i, root)
            reason[i] = ("exact", f"same name, workplace and town as row {row_ids[root]}")
            decisions.append(Decision(int(row_ids[root]), int(row_ids[i]), True, "same name, workplace and town"))
    key_labels = pd.Series(mkey, dtype=object).where(mkey != "", None)
    for members in _groups(key_labels):
        roots: list[int] = []
        for i in members.tolist():
            root_i = clusters.find(i)
            if root_i in roots:
                continue
            refused = ""
            for slot, r in enumerate(roots):
                partial = "" in clusters.context(r) or "" in clusters.context(root_i)
                why = clusters.union(r, root_i)
                if why is None:
                    roots[slot] = clusters.find(r)
                    note = "; workplace or town missing on one, check" if partial else ""
                    text = f"same name as row {row_ids[min(r, root_i)]}{note}"
                    reason.setdefault(max(r, root_i), ("exact", text))
                    decisions.append(Decision(int(row_ids[r]), int(row_ids[i]), True, "same name"))
                    break
                refused = refused or f"same name as row {row_ids[r]}, {why}"
            else:
                if refused:
                    decisions.append(Decision(int(row_ids[roots[0]]), int(row_ids[i]), False, refused))
                roots.append(root_i)

    # 3. Probable: confusion keys equal, or one edit apart.
    # (One match key may have two confusion keys: QAIRAT and KAIRAT share a match key.)
    key_pairs = pd.DataFrame({"m": mkey, "l": lkey, "c": ckey}).drop_duplicates(["m", "c"])
    ck_to_m: dict[str, list[tuple[str, str]]] = {}
    for m, lk, c in zip(*(key_pairs[k].tolist() for k in ("m", "l", "c")), strict=True):
        if m and len(c.replace(" ", "")) >= MIN_PROBABLE_LEN:
            ck_to_m.setdefault(c, []).append((m, lk))
    # (key, key, reason, evidence needed): a letter the reader confuses is a likely
    # misreading; any other letter may well be another person's name (HAYES, HAYNES).
    mkey_pairs: list[tuple[str, str, str, int]] = []
    for group in ck_to_m.values():
        if len(group) > 1:
            group.sort(key=lambda keys: (keys[1], keys[0]))
            (first, first_loose), rest = group[0], group[1:]
            for other, other_loose in rest:
                if other != first:
                    letters = _differing_letters(first_loose, other_loose)
                    pair = (min(first, other), max(first, other))
                    mkey_pairs.append((*pair, f"letters the reader confuses ({letters})", 1))
    for ca, cb in sorted(_fuzzy_pairs(list(ck_to_m))):
        for ma, la in ck_to_m[ca]:
            for mb, lb in ck_to_m[cb]:
                if ma != mb:
                    mkey_pairs.append((min(ma, mb), max(ma, mb), f"names one letter apart ({la} / {lb})", 2))
    for ra, rb, why_text, needed in _probable_candidates(mkey_pairs, mkey, clusters):
        r1, r2 = clusters.find(ra), clusters.find(rb)
        if r1 == r2:
            continue
        if clusters.union(r1, r2, evidence=needed) is None:
            reason.setdefault(max(r1, r2), ("probable", why_text))
            decisions.append(Decision(int(row_ids[min(ra, rb)]), int(row_ids[max(ra, rb)]), True, why_text))

    # 4. Read off clusters: the signer is the earliest row of each cluster.
    root_of = np.arange(n, dtype=np.int64)
    for i in list(clusters.parent):
        root_of[i] = clusters.find(i)
    signer = row_ids[root_of] if n else row_ids
    is_dup = root_of != np.arange(n)
    match = np.full(n, "", dtype=object)
    why_col = np.full(n, "", dtype=object)
    for i in np.nonzero(is_dup)[0].tolist():
        kind, text = reason.get(i, ("exact", "same signer as a row merged with it"))
        match[i], why_col[i] = kind, text
    result = pd.DataFrame(
        {
            "row_id": row_ids,
            "signer": signer,
            "is_duplicate": is_dup,
            "match": match,
            "reason": why_col,
            "key": mkey,
        }
    )
    return DedupeResult(rows=result, decisions=tuple(decisions), conflicts=tuple(conflicts))


# --- the database side ----------------------------------------------------------


def people_decisions(conn: store.Connection) -> list[Decision]:
    """Decisions people made, oldest first (later ones refine earlier ones)."""
    cur = conn.execute(
        "SELECT row_a, row_b, decision, reason, decided_by FROM duplicate_decisions "
        "WHERE decided_by IS NOT NULL ORDER BY decided_at, id"
    )
    return [Decision(int(a), int(b), d == "same", r or "", who) for a, b, d, r, who in cur.fetchall()]


def store_decisions(conn: store.Connection, result: DedupeResult) -> int:
    """Replace the automatic decisions with this run's; people's decisions stay.

    Automatic rows have ``decided_by`` NULL, so the review page can show why
    two rows were merged or kept apart and a person can overrule them.
    """
    now = store.now_iso()
    seen: set[tuple[int, int]] = set()
    values = []
    for d in result.decisions:
        if d.decided_by is not None or d.row_a == d.row_b:
            continue
        a, b = min(d.row_a, d.row_b), max(d.row_a, d.row_b)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        values.append((a, b, "same" if d.same else "different", d.reason, now))
    with store.transaction(conn):
        conn.execute("DELETE FROM duplicate_decisions WHERE decided_by IS NULL")
        conn.executemany(
            "INSERT INTO duplicate_decisions (row_a, row_b, decision, reason, decided_by, decided_at) "
            "VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (row_a, row_b) DO NOTHING",
            values,
        )
    return len(values)


class DecisionChanged(Exception):
    """Another person decided the pair after the caller looked: nothing was written."""


def decision_stamp(decision: str, decided_by: str | None, decided_at: str) -> str:
    """A person decision as "decision|who|when": what a reviewer saw, compared before writing."""
    return f"{decision}|{decided_by or ''}|{decided_at}"


def person_decision_stamp(conn: store.Connection, row_a: int, row_b: int) -> str:
    """The pair's current person decision as :func:`decision_stamp` ("" for none)."""
    found = conn.execute(
        "SELECT decision, decided_by, decided_at FROM duplicate_decisions "
        "WHERE row_a = ? AND row_b = ? AND decided_by IS NOT NULL",
        (min(row_a, row_b), max(row_a, row_b)),
    ).fetchone()
    return decision_stamp(found[0], found[1], found[2]) if found else ""


def decide_duplicate(
    conn: store.Connection, row_a: int, row_b: int, same: bool, who: str, *, expected: str | None = None
) -> None:
    """Record a person's decision that two rows are (or are not) one signer.

    It replaces any earlier decision on the pair and wins over the automatic
    matching on every later count. With ``expected`` (the stamp of the person
    decision the caller saw, "" for none), the check and the write happen in
    one write transaction: if the pair was decided since, by this or another
    process, :class:`DecisionChanged` is raised and nothing is written.
    """
    who = who.strip()
    if not who:
        raise UsageError("say who decides: a reviewer name is needed for a duplicate decision")
    if row_a == row_b:
        raise UsageError(f"row {row_a} cannot be a duplicate of itself; choose two different rows")
    a, b = min(row_a, row_b), max(row_a, row_b)
    found = {int(r[0]) for r in conn.execute("SELECT id FROM rows WHERE id IN (?, ?)", (a, b))}
    missing = sorted({a, b} - found)
    if missing:
        raise UsageError(f"no row {missing[0]} in this database; reload the page and choose again")
    decision = "same" if same else "different"
    now = store.now_iso()
    with store.transaction(conn):
        store.serialize(conn, f"pair:{a}:{b}")
        if expected is not None and person_decision_stamp(conn, a, b) != expected:
            raise DecisionChanged(f"rows {a} and {b} were decided by someone else meanwhile")
        conn.execute(
            "INSERT INTO duplicate_decisions (row_a, row_b, decision, reason, decided_by, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (row_a, row_b) DO UPDATE SET "
            "decision = excluded.decision, reason = excluded.reason, "
            "decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            (a, b, decision, f"decided by {who}", who, now),
        )
        conn.execute(
            "INSERT INTO review_log (row_id, reviewer, decided_at, action) VALUES (?, ?, ?, ?)",
            (a, who, now, f"duplicate:{decision}:{b}"),
        )
