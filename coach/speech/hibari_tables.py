"""The hibari phonemizer's tables, kept in the speech cache in Python's marshal form, each read a bucket at a time.

hibari's G2P (its spelling-to-sound step) reads its tables from JSON each time it loads: two lexicons of about
90,000 words each, the tokenizer's exceptions and the part-of-speech tagger's weights, 0.7 s on one core and, with
the model's start, most of a cold first sound. The tables are the same for every process of one hibari release, so
the first load keeps what the G2P read as one blob in the speech cache (checksummed like an encoded segment, pruned
by age and cleared with the clips). Each large table is kept in BUCKETS marshalled buckets by a hash of its keys, and
a later load hands the G2P tables that decode a bucket on the first lookup there: a process that speaks a few cues
(the first sound, an edit's export) decodes a few hundred of the buckets, 0.05 s, rather than all of them, 0.3 s.
The G2P only ever looks words up in its tables (`get`), and they answer as the dicts do.

The blob's key is the sha256 of every JSON file in hibari's assets, the Python version (marshal's format is the
interpreter's own) and this layout, so another release, a changed file or another Python reads the JSON again.
What the G2P builds from the tables is its own code either way: only where its data comes from changes, so its
phonemes are the same (a test compares them).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
import threading
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CacheError

if TYPE_CHECKING:
    from coach.speech.cache import ClipCache

TABLES_SCHEMA = 3  # bump when what the blob holds changes (3: large tables in buckets)
LARGE = 4096  # a dict of this many entries or more (a table, or an entry of one) is kept in buckets
BUCKETS = 1024  # about 90 words each in a lexicon: a cue's words touch a few dozen
_patching = threading.Lock()  # the G2P's JSON reader is replaced for the length of one load
Kept = list[tuple[str, "str | None", "bytes | list[bytes]"]]  # (table, entry or None, marshalled value or buckets)


def tables_key(assets: Path, british: bool) -> str:
    """The key of the tables hibari's G2P reads from `assets` (every JSON file's sha256) in this Python."""
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(assets.glob("*.json*"))}
    fields = [TABLES_SCHEMA, sys.implementation.cache_tag, marshal.version, british, BUCKETS, files]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def load_g2p(assets: Path, british: bool, cache: ClipCache | None) -> Any:
    """hibari's G2P for the accent, its tables read from `cache` when kept there (and kept there when not)."""
    key = tables_key(assets, british) if cache is not None else None
    kept = _kept_tables(cache, key)
    import hibari.g2p as g2p_module

    read: dict[str, Any] = {}
    original = g2p_module._load_json

    def load_json(name: str) -> Any:
        read[name] = kept[name] if name in kept else original(name)
        return read[name]

    with _patching:
        g2p_module._load_json = load_json
        try:
            g2p = g2p_module.G2P(british=british)
        finally:
            g2p_module._load_json = original
    if cache is not None and key is not None and read.keys() != kept.keys():
        try:
            cache.store_voice_data(key, marshal.dumps(kept_form(read)))
        except CacheError:
            pass  # a full or read-only cache: the next load reads the JSON again, no worse than without it
    return g2p


def kept_form(tables: dict[str, Any]) -> Kept:
    """The tables as they are kept: every large dict (a table, or an entry of one) in BUCKETS, the rest as it is."""
    kept: Kept = []
    for name, table in tables.items():
        if not isinstance(table, dict) or len(table) >= LARGE:
            kept.append((name, None, _buckets(table) if isinstance(table, dict) else marshal.dumps(table)))
            continue
        large = {entry: value for entry, value in table.items() if isinstance(value, dict) and len(value) >= LARGE}
        kept.append((name, None, marshal.dumps({entry: value for entry, value in table.items() if entry not in large})))
        kept += [(name, entry, _buckets(value)) for entry, value in large.items()]
    return kept


def tables_from(kept: Kept) -> dict[str, Any]:
    """The tables from their kept form: the large dicts as LazyTables, the rest decoded now."""
    tables: dict[str, Any] = {}
    for name, entry, value in kept:
        decoded = LazyTable(value) if isinstance(value, list) else marshal.loads(value)
        if entry is not None:
            tables[name][entry] = decoded
        else:
            tables[name] = decoded
    return tables


class LazyTable(Mapping):
    """A dict kept in marshalled buckets (by a CRC-32 of its string keys), each decoded on its first lookup."""

    def __init__(self, buckets: list[bytes]) -> None:
        self._kept = buckets
        self._decoded: list[dict | None] = [None] * len(buckets)

    def _bucket(self, key: str) -> dict:
        return self._bucket_at(_bucket_of(key, len(self._kept)))

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of `key`, or `default`: as dict.get."""
        return self._bucket(key).get(key, default) if isinstance(key, str) else default

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._bucket(key)[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._bucket(key)

    def __iter__(self) -> Iterator[str]:
        for index in range(len(self._kept)):
            yield from self._bucket_at(index)

    def __len__(self) -> int:
        return sum(len(self._bucket_at(index)) for index in range(len(self._kept)))

    def _bucket_at(self, index: int) -> dict:
        found = self._decoded[index]
        if found is None:  # two threads may both decode one bucket: the same dict either way
            found = self._decoded[index] = marshal.loads(self._kept[index])
        return found


def _buckets(table: dict) -> list[bytes]:
    buckets: list[dict] = [{} for _ in range(BUCKETS)]
    for key, value in table.items():
        buckets[_bucket_of(key, BUCKETS)][key] = value
    return [marshal.dumps(bucket) for bucket in buckets]


def _bucket_of(key: str, count: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % count


def _kept_tables(cache: ClipCache | None, key: str | None) -> dict[str, Any]:
    """The tables kept under `key`, or {} when there are none or they do not read back as tables."""
    if cache is None or key is None:
        return {}
    data = cache.voice_data(key)
    if data is None:
        return {}
    try:
        return tables_from(marshal.loads(data))
    except (EOFError, ValueError, TypeError, KeyError):  # checksummed, so only a blob written by another layout
        return {}
