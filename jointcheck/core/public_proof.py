"""The public proof of a jointcheck round, runnable on its own.

This one file is what an outsider downloads from the public site to re-derive a draw: canonical
JSON, the audit event hash, draw-v1 and assign-v1 (SPEC section 4) and a bundle verifier.
It uses the Python standard library only, and the service imports its functions from here, so the
code that draws and the code that checks a draw are the same code.

Usage:  python public_proof.py BUNDLE      (BUNDLE is a round bundle folder or a .zip of one)
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import os
import re
import sys
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count, islice, repeat
from pathlib import Path

AUDIT_GENESIS = "0" * 64


def canonical_json(value: object) -> bytes:
    """Keys sorted, no spaces, non-ASCII kept, UTF-8: the only JSON form that gets hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def audit_event_hash(prev_hash: str, event: dict) -> str:
    """Hash of one audit event: its predecessor's hash, a LF, then the canonical JSON of its fields.

    `event` holds exactly the keys seq, at, actor, action, entity, entity_id and payload; because
    `seq` is covered, moving a row to another place breaks the chain as surely as editing it.
    """
    return sha256_hex(prev_hash.encode("ascii") + b"\n" + canonical_json(event))


DRAW_VERSION = "draw-v1"
BUNDLE_VERSION = "bundle-v1"
MANIFEST_NAME = "manifest.json"
BUNDLE_FILES = (
    "params.json",
    "population.tsv",
    "pools.tsv",
    "conflicts.tsv",
    "seed.txt",
    "selected.tsv",
    "assignments.tsv",
    "results.csv",
    "audit.jsonl",
)
# Only conflicts.tsv names people in a way the public site must not show; every other file is
# needed to re-derive the draw, so it cannot be left out of a bundle that still claims to verify.
REDACTABLE = frozenset({"conflicts.tsv"})
# Evidence, in bundles of rounds whose results have photos or documents: evidence.tsv lists each
# file's SHA-256; a private bundle also carries every file, named evidence-<its sha256>.
EVIDENCE_LIST = "evidence.tsv"
EVIDENCE_PREFIX = "evidence-"
SEED_MIN_DIGITS = 20
SEED_MAX_DIGITS = 200
AUDIT_KEYS = ("seq", "at", "actor", "action", "entity", "entity_id", "payload")

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEED_SPACES = frozenset(" \t\n\r\u3000")
_FULLWIDTH_DIGITS = frozenset(chr(c) for c in range(0xFF10, 0xFF1A))
# Rows are read in chunks of this size, after which each stratum's candidates are trimmed, so that
# memory follows k rather than the population size (10 million rows would otherwise take ~1 GB).
_CHUNK = 1 << 16
# Entries sorted to estimate where a bucket's k smallest end: 4,096 to 8,191 of them put the bound
# a few per cent of the bucket above the k-th smallest, for a few milliseconds of sorting.
_SAMPLE = 1 << 12
_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)
_TICKET = operator.itemgetter(slice(0, 32))
_AFTER_TICKET = operator.itemgetter(slice(32, None))


class SeedError(ValueError):
    """The public seed or the server secret is not in the required form."""


class BundleError(ValueError):
    """A published file is malformed; the message names the file and, where it helps, the line."""


# ---------------------------------------------------------------------------------------------
# draw-v1: seed, commitment, key, tickets, selection


def normalize_seed_digits(text: str) -> str:
    """The convener's seed as hashed: spaces removed, then 20 to 200 ASCII digits 0-9.

    Full-width digits are refused rather than converted: the hashed seed must be the very characters
    everyone saw at the meeting, and a silent conversion would be one more thing to argue about.
    """
    if not isinstance(text, str):
        raise SeedError("seed: expected text")
    digits: list[str] = []
    for position, char in enumerate(text, start=1):
        if char in _SEED_SPACES:
            continue
        if not "0" <= char <= "9":
            hint = " (a full-width digit: type the ASCII digit instead)" if char in _FULLWIDTH_DIGITS else ""
            raise SeedError(f"seed: character {char!r} (U+{ord(char):04X}) at position {position} is not a digit 0-9{hint}")
        digits.append(char)
    if len(digits) < SEED_MIN_DIGITS:
        raise SeedError(f"seed: {len(digits)} digits after removing spaces; at least {SEED_MIN_DIGITS} are needed")
    if len(digits) > SEED_MAX_DIGITS:
        raise SeedError(f"seed: {len(digits)} digits after removing spaces; at most {SEED_MAX_DIGITS} are allowed")
    return "".join(digits)


def _check_secret_hex(secret_hex: str) -> str:
    if not isinstance(secret_hex, str) or not _HEX64.fullmatch(secret_hex):
        raise SeedError("server secret: expected 64 lowercase hexadecimal characters")
    return secret_hex


def make_seed_material(digits: str, secret_hex: str) -> str:
    """`seed_material` of step 2. The digits are normalised here too, so raw input cannot slip through."""
    return normalize_seed_digits(digits) + ";" + _check_secret_hex(secret_hex)


def parse_seed_material(text: str) -> tuple[str, str]:
    """Split published seed material into (digits, secret hex), refusing anything not exactly canonical."""
    digits, sep, secret_hex = text.partition(";")
    if not sep:
        raise SeedError("seed material: expected DIGITS;SECRET")
    if normalize_seed_digits(digits) != digits:
        raise SeedError("seed material: the digits must be published with their spaces already removed")
    return digits, _check_secret_hex(secret_hex)


def server_commitment(secret: bytes) -> str:
    """What params.json commits to before the seed exists: hex SHA-256 of the 32-byte server secret."""
    if not isinstance(secret, bytes) or len(secret) != 32:
        raise ValueError("server secret: expected exactly 32 bytes")
    return sha256_hex(secret)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def k_for(n: int, permille: int) -> int:
    """k_h = ceil(N_h * p_h / 1000) in integers, so a non-empty stratum with p > 0 is never skipped."""
    if not _is_int(n) or n < 0:
        raise ValueError(f"stratum size must be a non-negative integer, got {n!r}")
    if not _is_int(permille) or not 0 <= permille <= 1000:
        raise ValueError(f"ratio must be an integer per mille in 0..1000, got {permille!r}")
    return (n * permille + 999) // 1000


def draw_key(params_json: bytes, seed_material: str) -> bytes:
    """Step 3. The raw 32-byte digest of params.json is hashed, not its hex form."""
    return hashlib.sha256(b"draw-v1/key\x00" + hashlib.sha256(params_json).digest() + seed_material.encode("utf-8")).digest()


def ticket(key: bytes, target_id: str) -> bytes:
    """Step 4: T(id), compared as bytes."""
    return hashlib.sha256(key + b"\x01" + target_id.encode("utf-8")).digest()


def _k_value(k: object) -> int:
    if not _is_int(k) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return k  # type: ignore[return-value]


def _bound(bucket: list[bytes], k: int) -> bytes | None:
    """A value that, very likely, at least k entries of `bucket` are below, and not many more.

    Read off a sorted sample of the bucket: tickets are uniformly distributed whatever the ids,
    and so is every slice of them, so the sample's quantile is the bucket's within a few standard
    deviations; the bound sits four of them above it. None when a cut would not pay.
    """
    size = len(bucket)
    if size < 4 * _SAMPLE:
        return None
    sample = sorted(bucket[:: size // _SAMPLE])
    share = k / size
    rank = math.ceil(share * len(sample) + 4 * math.sqrt(share * (1 - share) * len(sample))) + 1
    return sample[rank] if rank < len(sample) * 0.95 else None


def _cut(bucket: list[bytes], k: int) -> bytes:
    """Drop in place what cannot be among the k smallest entries of `bucket`, and return a bound:
    no entry kept is above it and at least k are not above it, so any later entry that is not
    below it can be dropped as well.

    Filtering against a bound is one C-level pass; sorting, which it replaces where it can, costs
    about twenty comparisons an entry at these sizes.
    """
    bound = _bound(bucket, k)
    if bound is not None:
        kept = list(filter(bound.__gt__, bucket))
        if len(kept) >= k:
            bucket[:] = kept
            return bound
    # No sample, or (about once in 30,000 cuts) a sample that misled: the exact cut.
    bucket.sort()
    del bucket[k:]
    return bucket[-1] if bucket else b""  # b"" is below everything: k = 0 keeps nothing


def _trim(bucket: list[bytes], k: int, fresh_from: int, limit: bytes | None) -> bytes | None:
    """Drop what can no longer be among the k smallest; return the new bound (None: none yet).

    Entries added since `fresh_from` that are not below `limit`, the bound of the last cut, go at
    once through a C-level filter; when the bucket still grows past 2k (or k + _CHUNK) it is cut
    back to about k. Memory stays near k, and after the first cut few entries get through.
    """
    if limit is not None:
        bucket[fresh_from:] = filter(limit.__gt__, bucket[fresh_from:])
    if len(bucket) >= k + max(k, _CHUNK):
        limit = _cut(bucket, k)
    return limit


def _keep_smallest(bucket: list[bytes], k: int) -> None:
    """Trim `bucket` in place to its k smallest entries, ascending."""
    _cut(bucket, k)
    bucket.sort()
    del bucket[k:]


def select(key: bytes, population: Iterable[tuple[str, str]], k_by_stratum: Mapping[str, int]) -> list[tuple[str, str, bytes]]:
    """Steps 4-6: the k_h smallest (T, id bytes) per stratum, all of them in visit order.

    Returns (target_id, stratum, ticket). Each candidate is held as one bytes object, ticket + id:
    the ticket has a fixed length of 32, so ordering these objects is ordering by (T, id bytes),
    done in C without building tuples. Duplicate ids are the caller's problem (population_tsv and
    parse_population_tsv refuse them); checking here would cost a 10-million-entry set.
    """
    wanted = {stratum: _k_value(k) for stratum, k in k_by_stratum.items()}
    buckets: dict[str, list[bytes]] = {stratum: [] for stratum in wanted}
    appenders = {stratum: bucket.append for stratum, bucket in buckets.items()}
    limits: dict[str, bytes | None] = dict.fromkeys(wanted)
    sizes = dict.fromkeys(wanted, 0)
    copy = hashlib.sha256(key + b"\x01").copy
    rows = iter(population)
    while chunk := list(islice(rows, _CHUNK)):
        try:
            for target_id, stratum in chunk:
                raw = target_id.encode("utf-8")
                h = copy()
                h.update(raw)
                appenders[stratum](h.digest() + raw)
        except KeyError as exc:
            raise ValueError(f"stratum {exc.args[0]!r} of the population has no k") from None
        for stratum, bucket in buckets.items():
            limits[stratum] = _trim(bucket, wanted[stratum], sizes[stratum], limits[stratum])
            sizes[stratum] = len(bucket)
    return _visit_order(buckets, wanted)


def _visit_order(buckets: Mapping[str, list[bytes]], wanted: Mapping[str, int]) -> list[tuple[str, str, bytes]]:
    """The k smallest candidates (ticket + id bytes) of each stratum, merged into visit order."""
    chosen: list[bytes] = []
    stratum_of: dict[bytes, str] = {}
    for stratum, bucket in buckets.items():
        k = wanted[stratum]
        if len(bucket) < k:  # never trimmed below k, so len(bucket) is the stratum's size here
            raise ValueError(f"stratum {stratum!r} has {len(bucket)} targets, fewer than k = {k}")
        _keep_smallest(bucket, k)
        chosen += bucket
        stratum_of.update(dict.fromkeys(bucket, stratum))
    if len(stratum_of) != len(chosen):
        raise ValueError("a target id appears twice in the population")
    chosen.sort()  # sorted runs, one per stratum: timsort merges them
    # Plain bytes and C-level maps rather than tuples and a Python loop: with k in the millions the
    # output alone would otherwise cost as much as the hashing.
    ids = map(bytes.decode, map(_AFTER_TICKET, chosen))
    return list(zip(ids, map(stratum_of.__getitem__, chosen), map(_TICKET, chosen)))


# ---------------------------------------------------------------------------------------------
# population.tsv at directory scale: read block by block, straight from its bytes

# About 50,000 lines of a typical population.tsv: big enough that per-block work in Python is
# noise, small enough that a block's temporary lists stay a few MB.
_BLOCK = 1 << 20
_TAB_LF = b"\t\n"
_NOT_SEPARATORS = bytes(sorted(set(range(256)) - set(_TAB_LF)))


class _NotPlain(Exception):
    """The block reader met something parse_population_tsv would refuse; it then says what and where."""


def _population_blocks(data: bytes, block_size: int = _BLOCK) -> Iterable[tuple[list[bytes], list[bytes]]]:
    """(ids, strata) as UTF-8 bytes, block by block, for a population.tsv that parse_population_tsv
    accepts, without building a tuple per line. Raises _NotPlain instead of any error message:
    callers then run parse_population_tsv, so every refusal reads exactly as it always has.

    Bytes compare as their UTF-8 text does (code point order), so the ascending check on bytes is
    _require_ascending's. A block is cut just after a LF, which is never inside a UTF-8 sequence.
    """
    if data.startswith(b"\xef\xbb\xbf") or (data and not data.endswith(b"\n")):
        raise _NotPlain
    previous = b""
    start, size = 0, len(data)
    while start < size:
        end = data.find(b"\n", start + block_size - 1) + 1 or size
        block = data[start:end]
        start = end
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotPlain from None
        # Exactly one TAB in every line, with text on both sides: with everything but TAB and LF
        # deleted the block reads TAB LF TAB LF ..., and no TAB or LF stands next to another or
        # at the block's start. Then no field is empty and none holds a TAB.
        separators = block.translate(None, _NOT_SEPARATORS)
        if (
            b"\r" in block
            or separators != _TAB_LF * (len(separators) // 2)
            or b"\t\n" in block
            or b"\n\t" in block
            or block.startswith(b"\t")
        ):
            raise _NotPlain
        fields = block.replace(b"\n", b"\t").split(b"\t")
        ids, strata = fields[0:-1:2], fields[1::2]
        if not (previous < ids[0] and all(map(operator.lt, ids, islice(ids, 1, None)))):
            raise _NotPlain
        previous = ids[-1]
        yield ids, strata


def population_counts(data: bytes, name: str = "population.tsv", *, block_size: int = _BLOCK) -> Counter[str]:
    """Targets per stratum of a population.tsv, refusing exactly what parse_population_tsv refuses,
    with the same messages, but without holding one tuple per target. `block_size`: bytes read at a
    time (tests make it small, so that a few lines span many blocks)."""
    counts: Counter[bytes] = Counter()
    try:
        for _, strata in _population_blocks(data, block_size):
            counts.update(strata)
    except _NotPlain:
        return Counter(map(_SECOND, parse_population_tsv(data, name)))
    return Counter({stratum.decode("utf-8"): n for stratum, n in counts.items()})


def select_population(
    key: bytes, data: bytes, k_by_stratum: Mapping[str, int], name: str = "population.tsv", *, block_size: int = _BLOCK
) -> list[tuple[str, str, bytes]]:
    """select(key, parse_population_tsv(data), k_by_stratum), with the same result and the same
    refusals, read from the bytes block by block (`block_size` bytes at a time): the population is
    never a list of tuples, and no text is decoded that is not selected."""
    wanted = {stratum: _k_value(k) for stratum, k in k_by_stratum.items()}
    by_raw = {stratum.encode("utf-8"): stratum for stratum in wanted}
    buckets: dict[str, list[bytes]] = {stratum: [] for stratum in wanted}
    limits: dict[str, bytes | None] = dict.fromkeys(wanted)
    copy = hashlib.sha256(key + b"\x01").copy
    try:
        for ids, strata in _population_blocks(data, block_size):
            present = set(strata)
            if not present <= by_raw.keys():
                unknown = next(raw for raw in strata if raw not in by_raw)  # the first, as select names it
                population_counts(data, name)  # a malformed file is refused as such first, as select's callers do
                raise ValueError(f"stratum {unknown.decode('utf-8')!r} of the population has no k")
            sizes = {raw: len(buckets[by_raw[raw]]) for raw in present}
            appenders = {raw: buckets[by_raw[raw]].append for raw in present}
            # The same loop as select's: per target, one copy of the keyed hash, its digest, one append.
            for raw_id, raw in zip(ids, strata):
                h = copy()
                h.update(raw_id)
                appenders[raw](h.digest() + raw_id)
            for raw, before in sizes.items():
                stratum = by_raw[raw]
                limits[stratum] = _trim(buckets[stratum], wanted[stratum], before, limits[stratum])
    except _NotPlain:
        return select(key, parse_population_tsv(data, name), k_by_stratum)
    return _visit_order(buckets, wanted)


# ---------------------------------------------------------------------------------------------
# assign-v1: team matching


def assign_cycle(key: bytes, department: str, cycle: int, pool: Iterable[str]) -> list[str]:
    """Cycle c of department d: the pool ordered by (SHA256(KEY 02 d 00 str(c) 00 id), id bytes)."""
    copy = hashlib.sha256(key + b"\x02" + department.encode("utf-8") + b"\x00" + str(cycle).encode("ascii") + b"\x00").copy
    entries = []
    for inspector_id in pool:
        raw = inspector_id.encode("utf-8")
        h = copy()
        h.update(raw)
        entries.append(h.digest() + raw)  # fixed 32-byte prefix: bytes order is (hash, id bytes)
    entries.sort()
    return [entry[32:].decode("utf-8") for entry in entries]


def _cycle_feed(key: bytes, department: str, pool: list[str]) -> Callable[[], list[str]]:
    """Cycles 0, 1, 2, ... of one department, one per call."""
    cycles = count()
    return lambda: assign_cycle(key, department, next(cycles), pool)


def _take(queue: deque[str], next_cycle: Callable[[], list[str]], n: int, barred: Iterable[str]) -> list[str]:
    """Scan Q_d from the front taking n eligible inspectors not yet taken for this target.

    Skipped entries keep their places; taken ones leave the queue. Callers guarantee at least n
    eligible inspectors, and every cycle holds each of them once, so a scan that has appended a
    cycle and read it to the end has taken n: a second append in one scan cannot happen.
    """
    taken: list[str] = []
    skipped: list[str] = []
    appended = False
    while len(taken) < n:
        if not queue:
            if appended:
                raise RuntimeError("assign-v1: a full cycle did not staff the target (fewer eligible than n_d)")
            queue.extend(next_cycle())
            appended = True
            continue  # an empty cycle (empty pool) must fail above, not pop from an empty queue
        inspector = queue.popleft()
        if inspector in barred or inspector in taken:
            skipped.append(inspector)
        else:
            taken.append(inspector)
    queue.extendleft(reversed(skipped))
    return taken


def assign(
    key: bytes,
    visit_order_ids: Sequence[str],
    pools: Mapping[str, Sequence[str]],
    team_sizes: Mapping[str, int],
    conflicts: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """assign-v1. Returns (assignments, unstaffed).

    assignments: (target_id, department_code, inspector_id) in visit order, then department, then
    order taken. unstaffed: (target_id, department_code) where fewer than n_d inspectors of the
    pool are free of conflict with the target. The participating departments are the keys of
    `team_sizes`; a department there with no pool is simply unstaffed wherever n_d > 0.
    Conflicts are (inspector_id, target_id) and apply in whichever department the inspector is.
    """
    unknown = sorted(set(pools) - set(team_sizes))
    if unknown:
        raise ValueError(f"pools name departments without a team size: {', '.join(unknown)}")
    departments = sorted(team_sizes, key=lambda code: code.encode("utf-8"))
    members: dict[str, frozenset[str]] = {}
    queues: dict[str, deque[str]] = {}
    refills: dict[str, Callable[[], list[str]]] = {}
    for department in departments:
        size = team_sizes[department]
        if not _is_int(size) or size < 0:
            raise ValueError(f"team size of {department!r} must be a non-negative integer, got {size!r}")
        pool = list(pools.get(department, ()))
        members[department] = frozenset(pool)
        if len(members[department]) != len(pool):
            raise ValueError(f"pool of {department!r} lists an inspector twice")
        queues[department] = deque()
        refills[department] = _cycle_feed(key, department, pool)
    barred_by_target: dict[str, set[str]] = {}
    for inspector_id, target_id in conflicts:
        barred_by_target.setdefault(target_id, set()).add(inspector_id)
    if len(set(visit_order_ids)) != len(visit_order_ids):
        raise ValueError("visit order lists a target twice")

    assignments: list[tuple[str, str, str]] = []
    unstaffed: list[tuple[str, str]] = []
    no_one: frozenset[str] = frozenset()
    teams = [(d, team_sizes[d], members[d], queues[d], refills[d]) for d in departments if team_sizes[d]]
    for target_id in visit_order_ids:
        barred = barred_by_target.get(target_id, no_one)
        for department, n, pool, queue, refill in teams:
            eligible = len(pool) - len(barred & pool) if barred else len(pool)
            if eligible < n:
                unstaffed.append((target_id, department))
                continue
            if n == 1 and queue and not barred:
                # What _take does for most targets, without its lists and loop: with nothing barred
                # and nothing taken yet, the scan takes the queue's first entry.
                assignments.append((target_id, department, queue.popleft()))
                continue
            for inspector_id in _take(queue, refill, n, barred):
                assignments.append((target_id, department, inspector_id))
    return assignments, unstaffed


# ---------------------------------------------------------------------------------------------
# Published files: serialisers and parsers


def _tsv_line(fields: Sequence[str], what: str) -> bytes:
    for value in fields:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{what}: empty or non-text field in {tuple(fields)!r}")
        if "\t" in value or "\n" in value or "\r" in value:
            raise ValueError(f"{what}: field {value!r} contains a TAB, LF or CR")
    return "\t".join(fields).encode("utf-8") + b"\n"


def _well_formed(text: str, rows: int, width: int) -> bool:
    """Whether `text` is `rows` LF-terminated lines of `width` non-empty TAB-separated fields,
    given that each line was built from (or split into) exactly `width` pieces.

    One pass over the whole text in C instead of one Python check per field: the population
    has millions of rows. Only a failure walks the rows, to say which one is wrong.
    """
    return (
        text.count("\t") == rows * (width - 1)
        and text.count("\n") == rows
        and "\r" not in text
        and not text.startswith(("\t", "\n"))
        and "\t\t" not in text
        and "\n\t" not in text
        and "\t\n" not in text
        and "\n\n" not in text
    )


def _join_rows(rows: Sequence[Sequence[str]], width: int, what: str) -> bytes:
    if set(map(len, rows)) <= {width}:
        try:
            text = "".join(map("{}\n".format, map("\t".join, rows)))
        except TypeError:
            text = None
        if text is not None and _well_formed(text, len(rows), width):
            return text.encode("utf-8")
    for row in rows:
        if len(row) != width:
            raise ValueError(f"{what}: expected {width} fields in {tuple(row)!r}")
        _tsv_line(row, what)
    raise ValueError(f"{what}: malformed rows")  # not reached: the loop names the bad row


def _first_repeat(keys: Sequence[str]) -> int | None:
    """Index of the first key equal to its predecessor, if any."""
    if not any(map(operator.eq, keys, islice(keys, 1, None))):
        return None
    return next(i for i in range(1, len(keys)) if keys[i] == keys[i - 1])


# Python orders str by code point, and UTF-8 preserves code point order, so sorting or comparing
# the decoded strings is sorting or comparing their UTF-8 bytes.


def population_tsv(rows: Iterable[tuple[str, str]]) -> bytes:
    """population.tsv: `target_id TAB stratum`, sorted by the UTF-8 bytes of target_id, ids unique.

    Sorted on the id alone, not the whole line: the two differ when an id holds a character
    below TAB.
    """
    ordered = sorted(rows, key=_FIRST)
    body = _join_rows(ordered, 2, "population")
    ids = list(map(_FIRST, ordered))
    repeat_at = _first_repeat(ids)
    if repeat_at is not None:
        raise ValueError(f"population: target id {ids[repeat_at]!r} appears twice")
    return body


def _sorted_unique_lines(rows: Iterable[tuple[str, str]], what: str) -> bytes:
    ordered = list(rows)
    body = _join_rows(ordered, 2, what)  # validates first, so the sort key below sees only text
    lines = sorted(map("\t".join, ordered))
    repeat_at = _first_repeat(lines)
    if repeat_at is not None:
        raise ValueError(f"{what}: line {lines[repeat_at]!r} appears twice")
    return "".join(map("{}\n".format, lines)).encode("utf-8") if body else b""


def pools_tsv(rows: Iterable[tuple[str, str]]) -> bytes:
    """pools.tsv: `department_code TAB inspector_id`, sorted by the bytes of the whole line."""
    return _sorted_unique_lines(rows, "pools")


def conflicts_tsv(rows: Iterable[tuple[str, str]]) -> bytes:
    """conflicts.tsv: `inspector_id TAB target_id`, sorted by the bytes of the whole line."""
    return _sorted_unique_lines(rows, "conflicts")


def selected_tsv(selected: Iterable[tuple[str, str, bytes]]) -> bytes:
    """selected.tsv: `target_id TAB stratum TAB ticket hex`, in the order given (visit order)."""
    rows = []
    for target_id, stratum, tick in selected:
        if not isinstance(tick, bytes) or len(tick) != 32:
            raise ValueError(f"selected: ticket of {target_id!r} is not 32 bytes")
        rows.append((target_id, stratum, tick.hex()))
    return _join_rows(rows, 3, "selected")


def assignments_tsv(assignments: Iterable[tuple[str, str, str]]) -> bytes:
    """assignments.tsv: `target_id TAB department_code TAB inspector_id`, in the order given."""
    return _join_rows(list(assignments), 3, "assignments")


def _decode_text(data: bytes, name: str) -> str:
    """A published text file: UTF-8, no BOM, LF endings, every line LF-terminated."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise BundleError(f"{name} line 1: starts with a byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BundleError(f"{name} line {line}: not valid UTF-8") from None
    if "\r" in text:
        line = text.count("\n", 0, text.index("\r")) + 1
        raise BundleError(f"{name} line {line}: contains a CR (line endings must be LF)")
    if text and not text.endswith("\n"):
        raise BundleError(f"{name} line {text.count(chr(10)) + 1}: the last line does not end with LF")
    return text


def _text_lines(data: bytes, name: str) -> list[str]:
    text = _decode_text(data, name)
    return text[:-1].split("\n") if text else []


def _tsv_rows(data: bytes, name: str, width: int) -> list[list[str]]:
    text = _decode_text(data, name)
    lines = text[:-1].split("\n") if text else []
    rows = list(map(str.split, lines, repeat("\t")))
    if set(map(len, rows)) <= {width} and _well_formed(text, len(rows), width):
        return rows
    for number, fields in enumerate(rows, start=1):
        if len(fields) != width:
            raise BundleError(f"{name} line {number}: expected {width} TAB-separated fields, found {len(fields)}")
        if not all(fields):
            raise BundleError(f"{name} line {number}: empty field")
    raise BundleError(f"{name}: malformed")  # not reached: the loop names the bad line


def _require_ascending(keys: Sequence[str], name: str, what: str) -> None:
    if all(map(operator.lt, keys, islice(keys, 1, None))):
        return
    number = next(i for i in range(1, len(keys)) if keys[i] <= keys[i - 1])
    current, previous = keys[number], keys[number - 1]
    problem = "appears twice" if current == previous else "is out of order (must be ascending by UTF-8 bytes)"
    raise BundleError(f"{name} line {number + 1}: {what} {current!r} {problem}")


def parse_population_tsv(data: bytes, name: str = "population.tsv") -> list[tuple[str, str]]:
    rows = list(map(tuple, _tsv_rows(data, name, 2)))
    _require_ascending(list(map(_FIRST, rows)), name, "target id")
    return rows  # type: ignore[return-value]


def _parse_sorted_pairs(data: bytes, name: str) -> list[tuple[str, str]]:
    rows = _tsv_rows(data, name, 2)
    _require_ascending(list(map("\t".join, rows)), name, "line")
    return list(map(tuple, rows))  # type: ignore[arg-type]


def parse_pools_tsv(data: bytes, name: str = "pools.tsv") -> list[tuple[str, str]]:
    """(department_code, inspector_id) rows."""
    return _parse_sorted_pairs(data, name)


def parse_conflicts_tsv(data: bytes, name: str = "conflicts.tsv") -> list[tuple[str, str]]:
    """(inspector_id, target_id) rows."""
    return _parse_sorted_pairs(data, name)


def parse_selected_tsv(data: bytes, name: str = "selected.tsv") -> list[tuple[str, str, bytes]]:
    rows = []
    for number, (target_id, stratum, tick) in enumerate(_tsv_rows(data, name, 3), start=1):
        if not _HEX64.fullmatch(tick):
            raise BundleError(f"{name} line {number}: ticket is not 64 lowercase hex characters")
        rows.append((target_id, stratum, bytes.fromhex(tick)))
    return rows


def parse_assignments_tsv(data: bytes, name: str = "assignments.tsv") -> list[tuple[str, str, str]]:
    return list(map(tuple, _tsv_rows(data, name, 3)))  # type: ignore[arg-type]


def parse_seed_txt(data: bytes, name: str = "seed.txt") -> tuple[str, str]:
    """seed.txt is the seed material and one LF; returns (digits, secret hex)."""
    lines = _text_lines(data, name)
    if len(lines) != 1:
        raise BundleError(f"{name}: expected exactly one line, found {len(lines)}")
    try:
        return parse_seed_material(lines[0])
    except SeedError as exc:
        raise BundleError(f"{name} line 1: {exc}") from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def load_canonical_json(data: bytes, name: str) -> object:
    """Parse a file that must be canonical JSON; anything else could hash differently elsewhere."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{name}: not valid JSON ({exc})") from None
    if canonical_json(value) != data:
        raise BundleError(f"{name}: not canonical JSON (sorted keys, no spaces, non-ASCII kept, no final newline)")
    return value


# ---------------------------------------------------------------------------------------------
# params.json

_PARAMS_KEYS = (
    "version",
    "round",
    "population_sha256",
    "pools_sha256",
    "conflicts_sha256",
    "strata",
    "teams",
    "server_commitment",
)


def _check_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not value or "\t" in value or "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value!r} must be non-empty text without TAB, LF or CR")


def validate_params(params: object) -> dict:
    """Shape and types of params.json. The arithmetic (n, k) is checked against the population elsewhere."""
    if not isinstance(params, dict):
        raise ValueError("params.json: expected a JSON object")
    missing = [key for key in _PARAMS_KEYS if key not in params]
    if missing:
        raise ValueError(f"params.json: missing {', '.join(missing)}")
    if params["version"] != DRAW_VERSION:
        raise ValueError(f"params.json: version is {params['version']!r}, this verifier knows {DRAW_VERSION!r}")
    round_id = params["round"]
    if not (_is_int(round_id) or (isinstance(round_id, str) and round_id)):
        raise ValueError("params.json: round must be a non-empty string or an integer")
    for key in ("population_sha256", "pools_sha256", "conflicts_sha256", "server_commitment"):
        if not isinstance(params[key], str) or not _HEX64.fullmatch(params[key]):
            raise ValueError(f"params.json: {key} must be 64 lowercase hex characters")
    strata = params["strata"]
    if not isinstance(strata, dict):
        raise ValueError("params.json: strata must be an object")
    for stratum, entry in strata.items():
        _check_name(stratum, "params.json: stratum")
        if not isinstance(entry, dict) or set(entry) != {"n", "permille", "k"}:
            raise ValueError(f"params.json: stratum {stratum!r} must have exactly n, permille and k")
        if not all(_is_int(entry[key]) and entry[key] >= 0 for key in ("n", "permille", "k")):
            raise ValueError(f"params.json: n, permille and k of stratum {stratum!r} must be non-negative integers")
    teams = params["teams"]
    if not isinstance(teams, dict):
        raise ValueError("params.json: teams must be an object")
    for department, size in teams.items():
        _check_name(department, "params.json: department")
        if not _is_int(size) or size < 0:
            raise ValueError(f"params.json: team size of {department!r} must be a non-negative integer")
    return params


def parse_params(data: bytes, name: str = "params.json") -> dict:
    try:
        return validate_params(load_canonical_json(data, name))
    except BundleError:
        raise
    except ValueError as exc:
        raise BundleError(str(exc)) from None


def strata_problems(strata: Mapping[str, Mapping[str, int]], population: Iterable[tuple[str, str]]) -> list[str]:
    """Where params' strata disagree with the population or with k_for; empty when consistent."""
    return _strata_problems(strata, Counter(map(_SECOND, population)))


def _strata_problems(strata: Mapping[str, Mapping[str, int]], counts: Mapping[str, int]) -> list[str]:
    problems = [f"stratum {s!r} is in the population but not in params" for s in sorted(set(counts) - set(strata))]
    for stratum, entry in sorted(strata.items()):
        n = counts.get(stratum, 0)
        if entry["n"] != n:
            problems.append(f"stratum {stratum!r}: params say n = {entry['n']}, the population has {n}")
        if "k" in entry and entry["k"] != k_for(entry["n"], entry["permille"]):
            problems.append(
                f"stratum {stratum!r}: k = {entry['k']}, but ({entry['n']} * {entry['permille']} + 999) // 1000"
                f" = {k_for(entry['n'], entry['permille'])}"
            )
    return problems


def build_params(
    round_id: str | int,
    population: bytes,
    pools: bytes,
    conflicts: bytes,
    strata: Mapping[str, Mapping[str, int]] | Callable[[str], int],
    teams: Mapping[str, int],
    server_commitment: str,
    **extra: object,
) -> bytes:
    """params.json for freezing a round. The three files are parsed first, so the service can never
    commit to a file the verifier would refuse.

    `strata` gives each stratum's n and permille, or is a function giving the permille of each
    stratum the population holds, n then being counted here: reading ten million lines once
    instead of twice.
    """
    stratum_sizes = population_counts(population)
    if callable(strata):
        strata = {stratum: {"n": n, "permille": strata(stratum)} for stratum, n in stratum_sizes.items()}
    pool_rows = parse_pools_tsv(pools)
    parse_conflicts_tsv(conflicts)
    clash = sorted(set(extra) & set(_PARAMS_KEYS))
    if clash:
        raise ValueError(f"extra params may not replace {', '.join(clash)}")
    full_strata = {}
    for stratum, entry in strata.items():
        if set(entry) - {"n", "permille", "k"} or not {"n", "permille"} <= set(entry):
            raise ValueError(f"stratum {stratum!r}: expected n and permille")
        k = k_for(entry["n"], entry["permille"])
        if entry.get("k", k) != k:
            raise ValueError(f"stratum {stratum!r}: k = {entry['k']} but k_for gives {k}")
        full_strata[stratum] = {"n": entry["n"], "permille": entry["permille"], "k": k}
    problems = _strata_problems(full_strata, stratum_sizes)
    if problems:
        raise ValueError("; ".join(problems))
    stray = sorted({department for department, _ in pool_rows} - set(teams))
    if stray:
        raise ValueError(f"pools name departments without a team size: {', '.join(stray)}")
    params = {
        **extra,
        "version": DRAW_VERSION,
        "round": round_id,
        "population_sha256": sha256_hex(population),
        "pools_sha256": sha256_hex(pools),
        "conflicts_sha256": sha256_hex(conflicts),
        "strata": full_strata,
        "teams": dict(teams),
        "server_commitment": server_commitment,
    }
    validate_params(params)
    return canonical_json(params)


def pools_by_department(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for department, inspector_id in rows:
        pools.setdefault(department, []).append(inspector_id)
    return pools


def k_by_stratum(params: Mapping[str, object]) -> dict[str, int]:
    return {stratum: entry["k"] for stratum, entry in params["strata"].items()}  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Bundles: writing, reading, verifying


def is_optional_file(name: str) -> bool:
    """evidence.tsv, or an evidence file named by a SHA-256."""
    return name == EVIDENCE_LIST or (name.startswith(EVIDENCE_PREFIX) and bool(_HEX64.fullmatch(name[len(EVIDENCE_PREFIX) :])))


def write_bundle(
    path: str | os.PathLike[str], files: Mapping[str, bytes], redacted: tuple[str, ...] = (), audit_head: tuple[int, str] | None = None
) -> Path:
    """Write a round bundle plus its manifest.json. A `.zip` path gives a deterministic ZIP
    (sorted names, timestamps 1980-01-01), anything else a folder that must not hold other files.

    `audit_head` (seq, hash): the head of the whole audit chain when the bundle was made, so whoever
    keeps the bundle holds a head the operator's chain must go on holding."""
    redacted = tuple(sorted(set(redacted)))
    if not set(redacted) <= REDACTABLE:
        raise ValueError(f"only {', '.join(sorted(REDACTABLE))} may be redacted")
    expected = set(BUNDLE_FILES) - set(redacted)
    optional = {name for name in files if is_optional_file(name)}
    if set(files) - optional != expected:
        missing, extra = sorted(expected - set(files)), sorted(set(files) - expected - optional)
        raise ValueError(f"bundle files: missing {missing or 'none'}, unexpected {extra or 'none'}")
    if not all(isinstance(data, bytes) for data in files.values()):
        raise ValueError("bundle files must be bytes")
    manifest: dict[str, object] = {"files": {name: sha256_hex(files[name]) for name in sorted(files)}, "version": BUNDLE_VERSION}
    if redacted:
        manifest["redacted"] = list(redacted)
    if audit_head is not None:
        manifest["audit_head"] = {"seq": audit_head[0], "hash": audit_head[1]}
    everything = {**files, MANIFEST_NAME: canonical_json(manifest)}
    target = Path(path)
    if target.suffix.lower() == ".zip":
        _write_zip(target, everything)
    else:
        _write_folder(target, everything)
    return target


def _write_zip(target: Path, files: Mapping[str, bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_path = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial_path, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # otherwise it depends on the OS that wrote it
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    os.replace(partial_path, target)


def _write_folder(target: Path, files: Mapping[str, bytes]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ValueError(f"{target}: folder is not empty")
    for name, data in files.items():
        (target / name).write_bytes(data)


def read_bundle(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every entry of a bundle folder or ZIP by name. Sub-folders appear as `name/` so the manifest
    check reports them as unlisted instead of silently ignoring them."""
    source = Path(path)
    if source.is_dir():
        files = {}
        for entry in sorted(source.iterdir()):
            files[entry.name + "/" if entry.is_dir() else entry.name] = b"" if entry.is_dir() else entry.read_bytes()
        return files
    if not source.is_file():
        raise BundleError(f"{source}: no such folder or file")
    try:
        with zipfile.ZipFile(source) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            prefix = _single_top_folder([info.filename for info in infos])
            files = {}
            for info in infos:
                name = info.filename[len(prefix) :]
                if name in files:
                    raise BundleError(f"{source}: {name} appears twice in the ZIP")
                files[name] = archive.read(info)
            return files
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{source}: not a bundle folder or a readable ZIP file ({exc})") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
        raise BundleError(f"{source}: cannot read the ZIP file ({exc})") from None


def _single_top_folder(names: Sequence[str]) -> str:
    """`top/` when every entry sits inside one folder `top`, else ''."""
    if not names or not all("/" in name for name in names):
        return ""
    tops = {name.split("/", 1)[0] for name in names}
    return tops.pop() + "/" if len(tops) == 1 else ""


OK, FAIL, SKIP = "OK", "FAIL", "SKIP"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


@dataclass
class VerifyReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.status == FAIL]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failed

    def check(self, name: str) -> Check | None:
        return next((check for check in self.checks if check.name == name), None)

    def render(self) -> str:
        lines = [f"{check.status:<4} {check.name}: {check.detail}" for check in self.checks]
        lines.append("bundle OK" if self.ok else f"bundle FAILED: {len(self.failed)} checks failed")
        return "\n".join(lines)


class _Skip(Exception):
    """A check that cannot run because a file it depends on already failed its own check."""


class _Fail(Exception):
    """A check that ran and found the bundle wrong; the message says where."""


class _Bundle:
    """What the checks have established so far; each check reads earlier results through `need`."""

    def __init__(self, files: Mapping[str, bytes]):
        self.files = files
        self.found: dict[str, object] = {}

    def file(self, name: str) -> bytes:
        if name not in self.files:
            raise _Fail(f"{name} is missing")
        return self.files[name]

    # What an outsider must fix first when a later check cannot run.
    _SOURCES = {
        "params bytes": "params.json",
        "key": "params.json and seed.txt",
        "k": "params.json, population.tsv and strata",
        "pools": "pools.tsv and teams",
        "visit order": "selected.tsv inputs",
        "redacted": "manifest.json",
        "audit": "audit.jsonl",
    }

    def need(self, what: str) -> object:
        if what not in self.found:
            raise _Skip(f"not checked: needs a valid {self._SOURCES.get(what, what)}")
        return self.found[what]


def _check_manifest(b: _Bundle) -> str:
    manifest = load_canonical_json(b.file(MANIFEST_NAME), MANIFEST_NAME)
    if not isinstance(manifest, dict) or manifest.get("version") != BUNDLE_VERSION:
        raise _Fail(f"expected a JSON object with version {BUNDLE_VERSION!r}")
    if set(manifest) - _MANIFEST_KEYS:
        raise _Fail(f"unknown keys {sorted(set(manifest) - _MANIFEST_KEYS)}")
    listed, redacted = manifest.get("files"), manifest.get("redacted", [])
    if not isinstance(listed, dict) or not all(isinstance(h, str) for h in listed.values()):
        raise _Fail("files must map names to sha256 hex")
    if (
        not isinstance(redacted, list)
        or not all(isinstance(name, str) for name in redacted)
        or not set(redacted) <= REDACTABLE
        or len(set(redacted)) != len(redacted)
    ):
        raise _Fail(f"redacted may only list {', '.join(sorted(REDACTABLE))}")
    b.found["redacted"] = frozenset(redacted)
    present = set(b.files) - {MANIFEST_NAME}
    expected = set(BUNDLE_FILES) - set(redacted)
    optional = {name for name in listed if is_optional_file(name)}
    problems = []
    if (expected | optional) - present:
        problems.append(f"missing {', '.join(sorted((expected | optional) - present))}")
    if present - set(listed):
        problems.append(f"not listed in the manifest: {', '.join(sorted(present - set(listed)))}")
    if set(listed) - expected - optional:
        problems.append(f"manifest lists unexpected {', '.join(sorted(set(listed) - expected - optional))}")
    mismatched = [name for name in sorted(set(listed) & present) if sha256_hex(b.files[name]) != listed[name]]
    # an evidence file's name is its content's hash
    mismatched += [
        name for name in sorted(optional & present) if name != EVIDENCE_LIST and sha256_hex(b.files[name]) != name[len(EVIDENCE_PREFIX) :]
    ]
    if mismatched:
        problems.append(f"sha256 differs for {', '.join(mismatched)}")
    if problems:
        raise _Fail("; ".join(problems))
    note = f", {', '.join(redacted)} redacted" if redacted else ""
    if "audit_head" in manifest:  # bundles written before heads were published have none
        note += _check_audit_head(manifest["audit_head"], b.files.get("audit.jsonl", b""))
    return f"{len(listed)} files match their sha256, nothing unlisted{note}"


_MANIFEST_KEYS = {"files", "version", "redacted", "audit_head"}


def _check_audit_head(head: object, audit_jsonl: bytes) -> str:
    """The round's events in audit.jsonl must come before the chain head the bundle was made at."""
    if (
        not isinstance(head, dict)
        or set(head) != {"seq", "hash"}
        or not isinstance(head["seq"], int)
        or not isinstance(head["hash"], str)
        or not _HEX64.fullmatch(head["hash"])
    ):
        raise _Fail("audit_head must be {seq, hash}")
    for line in audit_jsonl.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
            seq, digest = event["seq"], event["hash"]
        except (ValueError, TypeError, KeyError):
            continue  # the audit step reports a malformed line
        if not isinstance(seq, int) or seq > head["seq"] or (seq == head["seq"] and digest != head["hash"]):
            raise _Fail(f"audit.jsonl event {seq} is not inside the chain whose head is {head['seq']}:{head['hash']}")
    return f"; audit chain head {head['seq']}:{head['hash']}"


def _check_params(b: _Bundle) -> str:
    raw = b.file("params.json")
    params = parse_params(raw)
    b.found["params.json"] = params
    b.found["params bytes"] = raw
    return f"canonical, {DRAW_VERSION}, round {params['round']!r}, commitment sha256(params.json) = {sha256_hex(raw)}"


def _check_committed_file(b: _Bundle, name: str, hash_key: str, parser: Callable[[bytes, str], object]) -> object:
    params = b.need("params.json")
    raw = b.file(name)
    if sha256_hex(raw) != params[hash_key]:  # type: ignore[index]
        raise _Fail(f"sha256 {sha256_hex(raw)} differs from params.json {hash_key}")
    rows = parser(raw, name)
    b.found[name] = rows
    return rows


def _check_population(b: _Bundle) -> str:
    # Counts, not rows: ten million tuples would take gigabytes; selected.tsv re-reads the bytes.
    counts = _check_committed_file(b, "population.tsv", "population_sha256", population_counts)
    return f"{sum(counts.values())} targets, sha256 matches params.json"


def _check_pools(b: _Bundle) -> str:
    rows = _check_committed_file(b, "pools.tsv", "pools_sha256", parse_pools_tsv)
    return f"{len(rows)} inspectors in {len({d for d, _ in rows})} departments, sha256 matches params.json"


def _conflicts_redacted(b: _Bundle) -> bool:
    """Absent and declared redacted by a readable manifest; merely absent is a failure, not a redaction."""
    return "conflicts.tsv" not in b.files and "conflicts.tsv" in b.found.get("redacted", frozenset())  # type: ignore[operator]


def _check_conflicts(b: _Bundle) -> str:
    if _conflicts_redacted(b):
        raise _Skip("redacted in this public bundle; its sha256 stays committed in params.json")
    rows = _check_committed_file(b, "conflicts.tsv", "conflicts_sha256", parse_conflicts_tsv)
    return f"{len(rows)} conflicts, sha256 matches params.json"


def _check_strata(b: _Bundle) -> str:
    params = b.need("params.json")
    population = b.need("population.tsv")
    problems = _strata_problems(params["strata"], population)  # type: ignore[index, arg-type]
    if problems:
        raise _Fail("; ".join(problems))
    ks = k_by_stratum(params)  # type: ignore[arg-type]
    b.found["k"] = ks
    return f"{len(ks)} strata, n matches the population, k = (n*permille+999)//1000, {sum(ks.values())} to select"


def _check_teams(b: _Bundle) -> str:
    teams = b.need("params.json")["teams"]  # type: ignore[index]
    pools = pools_by_department(b.need("pools.tsv"))  # type: ignore[arg-type]
    stray = sorted(set(pools) - set(teams))
    if stray:
        raise _Fail(f"pools.tsv names departments without a team size: {', '.join(stray)}")
    b.found["pools"] = pools
    return ", ".join(f"{d} n={teams[d]} pool={len(pools.get(d, []))}" for d in sorted(teams, key=str.encode)) or "no departments"


def _check_seed(b: _Bundle) -> str:
    digits, secret_hex = parse_seed_txt(b.file("seed.txt"))
    params = b.need("params.json")
    if sha256_hex(bytes.fromhex(secret_hex)) != params["server_commitment"]:  # type: ignore[index]
        raise _Fail("sha256 of the revealed secret differs from params.json server_commitment")
    b.found["key"] = draw_key(b.need("params bytes"), digits + ";" + secret_hex)  # type: ignore[arg-type]
    return f"{len(digits)} public digits; the secret matches the server commitment"


def _first_difference(expected: bytes, found: bytes) -> str:
    want, got = expected.split(b"\n"), found.split(b"\n")

    def show(lines: list[bytes], index: int) -> str:
        # split() leaves one empty piece after the final LF: that piece is the end of the file.
        if index >= len(lines) - 1 and not (index < len(lines) and lines[index]):
            return "end of file"
        return repr(lines[index].decode("utf-8", "replace"))

    for index in range(max(len(want), len(got))):
        if show(want, index) != show(got, index):
            return f"line {index + 1}: expected {show(want, index)}, found {show(got, index)}"
    return "differs"


def _check_selected(b: _Bundle) -> str:
    key = b.need("key")
    ks = b.need("k")
    b.need("population.tsv")
    selected = select_population(key, b.file("population.tsv"), ks)  # type: ignore[arg-type]
    b.found["visit order"] = [target_id for target_id, _, _ in selected]
    if selected_tsv(selected) != b.file("selected.tsv"):
        raise _Fail(f"not reproduced: {_first_difference(selected_tsv(selected), b.file('selected.tsv'))}")
    return f"{len(selected)} targets reproduced byte for byte"


def _check_assignments(b: _Bundle) -> str:
    key = b.need("key")
    visit_order = b.need("visit order")
    teams = b.need("params.json")["teams"]  # type: ignore[index]
    pools = b.need("pools")
    published = b.file("assignments.tsv")
    if _conflicts_redacted(b):
        _check_assignments_shape(parse_assignments_tsv(published), visit_order, pools, teams)  # type: ignore[arg-type]
        return "not reproducible without conflicts.tsv (redacted); checked pool membership and team sizes"
    conflicts = b.need("conflicts.tsv")
    assignments, unstaffed = assign(key, visit_order, pools, teams, conflicts)  # type: ignore[arg-type]
    expected = assignments_tsv(assignments)
    if expected != published:
        raise _Fail(f"not reproduced: {_first_difference(expected, published)}")
    return f"{len(assignments)} assignments reproduced byte for byte; {len(unstaffed)} target/department pairs unstaffed by assign-v1"


def _check_assignments_shape(
    rows: Sequence[tuple[str, str, str]], visit_order: Sequence[str], pools: Mapping[str, list[str]], teams: Mapping[str, int]
) -> None:
    selected = set(visit_order)
    members = {department: set(pool) for department, pool in pools.items()}
    teams_seen: dict[tuple[str, str], set[str]] = {}
    for number, (target_id, department, inspector_id) in enumerate(rows, start=1):
        if target_id not in selected:
            raise _Fail(f"line {number}: target {target_id!r} was not selected")
        if inspector_id not in members.get(department, ()):
            raise _Fail(f"line {number}: {inspector_id!r} is not in the pool of {department!r}")
        team = teams_seen.setdefault((target_id, department), set())
        if inspector_id in team:
            raise _Fail(f"line {number}: {inspector_id!r} is assigned twice to {target_id!r}")
        team.add(inspector_id)
        if len(team) > teams.get(department, 0):
            raise _Fail(f"line {number}: more than n = {teams.get(department, 0)} inspectors of {department!r} for {target_id!r}")


def _audit_problem(number: int, line: str, previous: dict | None) -> tuple[dict | None, str | None]:
    """Check one audit.jsonl line against itself and the line before it."""
    try:
        record = json.loads(line, parse_constant=_refuse_constant)
    except ValueError:
        return None, f"line {number}: not valid JSON"
    expected_keys = set(AUDIT_KEYS) | {"prev_hash", "hash"}
    if not isinstance(record, dict) or set(record) != expected_keys:
        return None, f"line {number}: expected an object with exactly the keys {', '.join(sorted(expected_keys))}"
    seq, prev_hash, digest = record["seq"], record["prev_hash"], record["hash"]
    if not _is_int(seq) or seq < 1:
        return None, f"line {number}: seq must be a positive integer"
    if not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in (prev_hash, digest)):
        return None, f"line {number}: prev_hash and hash must be 64 lowercase hex characters"
    if audit_event_hash(prev_hash, {key: record[key] for key in AUDIT_KEYS}) != digest:
        return record, f"line {number} (seq {seq}): content does not match its hash"
    if seq == 1 and prev_hash != AUDIT_GENESIS:
        return record, f"line {number}: seq 1 must follow the genesis hash"
    if previous is not None:
        if seq <= previous["seq"]:
            return record, f"line {number}: seq {seq} does not increase (previous {previous['seq']})"
        if seq == previous["seq"] + 1 and prev_hash != previous["hash"]:
            return record, f"line {number} (seq {seq}): does not link to seq {previous['seq']} on the line before"
    return record, None


def _check_audit(b: _Bundle) -> str:
    """The round's events are a subset of one global chain, so a gap in seq is normal (other
    rounds' events); a link is checked wherever two lines are neighbours in the chain."""
    lines = _text_lines(b.file("audit.jsonl"), "audit.jsonl")
    problems: list[str] = []
    records: list[dict] = []
    for number, line in enumerate(lines, start=1):
        record, problem = _audit_problem(number, line, records[-1] if records else None)
        if problem:
            problems.append(problem)
        if record is not None:
            records.append(record)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise _Fail("; ".join(problems[:5]) + more)
    b.found["audit"] = records
    if not lines:
        return "0 events"
    return f"{len(lines)} events, each matches its hash, seq increasing, neighbours linked"


_ROUND_STEPS = ("round.approved", "round.seeded", "round.drawn")


def _check_round_events(b: _Bundle) -> str:
    """The round's approval, seed and draw events say what the files say, in that order: the
    commitment recorded at approval is sha256(params.json) and names each frozen file's hash, the
    seed event revealed the digits and the secret of seed.txt, and the draw event recorded the
    fingerprints of selected.tsv and assignments.tsv. A bundle whose files were replaced after the
    fact must rewrite these events too, and with them the chain they are hashed into."""
    params, raw = b.need("params.json"), b.need("params bytes")
    round_id = str(params["round"])  # type: ignore[index]
    found: dict[str, list[dict]] = {action: [] for action in _ROUND_STEPS}
    for record in b.need("audit"):  # type: ignore[union-attr]
        if record["entity"] == "round" and str(record["entity_id"]) == round_id and record["action"] in found:
            found[record["action"]].append(record)
    for action, records in found.items():
        if len(records) != 1:
            raise _Fail(f"expected one {action} event of round {round_id}, found {len(records)}")
    approved, seeded, drawn = (found[action][0] for action in _ROUND_STEPS)
    if not approved["seq"] < seeded["seq"] < drawn["seq"]:
        raise _Fail("the events are not in the order approval, seed, draw")
    if not all(isinstance(r["payload"], dict) for r in (approved, seeded, drawn)):
        raise _Fail("an event's payload is not a JSON object")
    commitment = sha256_hex(raw)  # type: ignore[arg-type]
    digits, secret_hex = parse_seed_txt(b.file("seed.txt"))
    problems = []
    if approved["payload"].get("commitment") != commitment:
        problems.append("round.approved: its commitment is not sha256(params.json)")
    frozen = approved["payload"].get("files")
    if not isinstance(frozen, dict) or "params.json" not in frozen:
        problems.append("round.approved: no hashes of the frozen files")
    else:
        problems += [
            f"round.approved: {name} has changed since approval"
            for name, digest in sorted(frozen.items())
            if name in b.files and sha256_hex(b.files[name]) != digest
        ]
    if (seeded["payload"].get("seed_digits"), seeded["payload"].get("server_secret")) != (digits, secret_hex):
        problems.append("round.seeded: the digits or the secret differ from seed.txt")
    if seeded["payload"].get("commitment") != commitment:
        problems.append("round.seeded: its commitment is not sha256(params.json)")
    expected = {
        "seed_material_sha256": sha256_hex(make_seed_material(digits, secret_hex).encode()),
        "selected_sha256": sha256_hex(b.file("selected.tsv")),
        "assignments_sha256": sha256_hex(b.file("assignments.tsv")),
    }
    problems += [
        f"round.drawn: {key} differs from the bundle's files" for key, value in expected.items() if drawn["payload"].get(key) != value
    ]
    if problems:
        raise _Fail("; ".join(problems))
    return f"approval (seq {approved['seq']}), seed (seq {seeded['seq']}) and draw (seq {drawn['seq']}) recorded exactly these files"


_CHECKS: tuple[tuple[str, Callable[[_Bundle], str]], ...] = (
    ("manifest", _check_manifest),
    ("params", _check_params),
    ("population.tsv", _check_population),
    ("pools.tsv", _check_pools),
    ("conflicts.tsv", _check_conflicts),
    ("strata", _check_strata),
    ("teams", _check_teams),
    ("seed", _check_seed),
    ("selected.tsv", _check_selected),
    ("assignments.tsv", _check_assignments),
    ("audit.jsonl", _check_audit),
    ("round events", _check_round_events),
)


def _run_check(name: str, check: Callable[[_Bundle], str], bundle: _Bundle) -> Check:
    try:
        return Check(name, OK, check(bundle))
    except _Skip as exc:
        return Check(name, SKIP, str(exc))
    except (_Fail, ValueError) as exc:
        return Check(name, FAIL, str(exc))
    except Exception as exc:  # a verifier must report, not crash, whatever the input
        return Check(name, FAIL, f"unexpected {type(exc).__name__}: {exc}")


def verify_files(files: Mapping[str, bytes]) -> VerifyReport:
    """Verify a bundle given as {name: bytes}; see verify_bundle."""
    bundle = _Bundle(files)
    return VerifyReport([_run_check(name, check, bundle) for name, check in _CHECKS])


def verify_bundle(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify a round bundle folder or ZIP: every check, each reported OK, FAIL or SKIP with its reason."""
    try:
        files = read_bundle(path)
    except BundleError as exc:
        return VerifyReport([Check("bundle", FAIL, str(exc))])
    except OSError as exc:
        return VerifyReport([Check("bundle", FAIL, f"{path}: cannot read ({exc.strerror or exc})")])
    return verify_files(files)


_USAGE = "usage: python public_proof.py BUNDLE\n  BUNDLE: a jointcheck round bundle folder, or a .zip of one"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        print(_USAGE)
        return 0
    if len(args) != 1:
        print(_USAGE, file=sys.stderr)
        return 2
    if hasattr(sys.stdout, "reconfigure"):
        # Target ids are often Chinese; a console that cannot show them must not turn a report into a traceback.
        sys.stdout.reconfigure(errors="backslashreplace")
    report = verify_bundle(args[0])
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
