"""The scanner that proves saved artifacts are clean: every record the runner writes is scanned.

It finds what :mod:`billing_nb.reading.masking` masks, with the same model: in every string (text
files, decoded JSON and notebooks, SVG output included) the detector of :mod:`billing_nb.reading.pii`
(emails, phones, IBANs, Luhn-valid cards, keys, street addresses and postcodes, VAT ids, and the
customer's own known values); and in every Stripe object of a
JSON file, each field that :func:`~billing_nb.reading.masking.mask_object` would still mask (a name,
a tax id, a PII-named metadata value) -- kind ``field``. Excerpts are masked, so a report is safe to print.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.lexicon import VOCABULARY
from ..exceptions import BadInputError
from ..reading.pii import NO_WORDS, Vocabulary, known_kind, merge
from ..reading.names import name_spans
from .wording import own_wording
from ..reading.masking import BEARER_KEYS, PII_KINDS, catalogue_words, customer_pii, find_pii, known_needles, mask_object, mask_text, stripe_objects

__all__ = ["Leak", "masked_place", "scan"]


@dataclass(frozen=True)
class Leak:
    path: str
    line: int  # 1-based line in the file (text files) or in the JSON string at ``where``
    kind: str  # email | phone | iban | key | card | ssn | cvc | link | vat | name | address | secret | field
    excerpt: str  # masked, safe to print
    where: str = ""  # JSON pointer inside .ipynb/.json files ("/cells/3/outputs/0/text")


def masked_place(place: str, known: list[str] | None = None) -> str:
    """A leak's path or JSON pointer as it may be shown: each ``/``-separated segment masked like
    text (``jane.doe@gmail.com.txt`` -> ``j***@gmail.com.txt``), and read once more with ``_``,
    ``.``, ``-`` and ``+`` as spaces for the customer's known names (``josefina_ardmore.pdf``).
    A file a case saved can be named after its customer; the audit and the runner print it."""
    needles = known_needles(known or [])
    names = [n for n in needles if known_kind(n) == "name"]
    out: list[str] = []
    for segment in place.split("/"):
        masked = mask_text(segment, needles)
        if masked == segment and names:
            spaced = re.sub(r"[_.+-]", " ", segment)  # one for one: the spans stand where they did
            for start, end, mask in reversed(name_spans(spaced, names)):
                masked = masked[:start] + mask.rstrip(".") + masked[end:]
        out.append(masked)
    return "/".join(out)


_JSON_SUFFIXES = frozenset({".ipynb", ".json"})
#: Binary outputs (base64 images, PDFs, widget buffers) hold no text; an SVG image is text (XML,
#: its ``<text>`` elements a chart's labels: a customer's email in a plot title), so it is scanned.
_SKIP_KEYS = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "application/pdf",
              "buffers")
#: Markup whose character references are read as the characters they stand for.
_MARKUP_SUFFIXES = frozenset({".html", ".htm", ".svg", ".xml", ".xhtml"})
#: What nbformat, papermill and the kernel generate in a notebook -- a cell's random id, execution
#: counts and timings -- holds no customer text, and a random id such as ``00353363`` reads as a
#: phone number (about one new cell in 5,000). Sources, outputs, tags and parameters are scanned.
_NOTEBOOK_GENERATED = re.compile(
    r"^/cells/\d+/(?:id|execution_count|outputs/\d+/execution_count|metadata/execution/[^/]+"
    r"|metadata/papermill/(?:start_time|end_time|duration|status))$"
    r"|^/metadata/papermill/(?:start_time|end_time|duration)$")


def _masked_line(line: str, known: list[str], start: int, end: int,
                 common: Vocabulary = NO_WORDS) -> tuple[str, int, int, list[tuple[int, int]]]:
    """``line`` with every PII span in it masked, each on its own (so the offsets of the match at
    ``start:end`` can follow), where that match now stands, and where each mask stands. Masking the whole line before
    any cut: a cut of clear text showed 12 digits of a card beside an email (``4000 0566 5566``)."""
    spans = sorted({(s, e) for s, e, _ in find_pii(line, known, common)} | {(start, end)})
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos, at = "", 0, (0, 0)
    masks: list[tuple[int, int]] = []
    for s, e in merged:
        out += mask_text(line[pos:s], known, common)  # clear text between hits: a lone name part
        piece = mask_text(line[s:e], known, common)
        piece = "***" if piece == line[s:e] else piece
        if s <= start < e:
            at = (len(out), len(out) + len(piece))
        masks.append((len(out), len(out) + len(piece)))
        out += piece
        pos = e
    return out + mask_text(line[pos:], known, common), at[0], at[1], masks


def _safe_excerpt(line: str, start: int, end: int, known: list[str], common: Vocabulary = NO_WORDS) -> str:
    """Context around a match, from the line masked whole; widened to whole tokens so nothing
    half-cut survives, and cut only where a mask ends (never inside one)."""
    line, start, end, masks = _masked_line(line, known, start, end, common)
    lo, hi = max(0, start - 30), min(len(line), end + 30)
    while lo > 0 and not line[lo - 1].isspace() and start - lo < 90:
        lo -= 1
    while hi < len(line) and not line[hi].isspace() and hi - end < 90:
        hi += 1
    lo = start if lo > 0 and not line[lo - 1].isspace() else lo  # no boundary within reach: cut at the match
    hi = end if hi < len(line) and not line[hi].isspace() else hi
    for s, e in masks:  # a mask with a space in it (``GB** ****5432``) is kept whole or left out
        lo = s if s < lo < e else lo
        hi = e if s < hi < e else hi
    excerpt = line[lo:hi].strip()
    return excerpt if not find_pii(excerpt, known, common) else "***"


def _scan_line(line: str, known: list[str], common: Vocabulary = NO_WORDS) -> Iterator[tuple[str, str]]:
    """(kind, masked excerpt) per leak; a span reported once (a known email is one leak). A known
    name inside the toolkit's own fixed wording ("The Billing Team" of a template) is none
    (:mod:`.wording`); ``common``: the case's words, so a name inside a catalogue name is read
    as the masking read it (:mod:`billing_nb.reading.names`)."""
    hits = find_pii(line, known, common)
    taken: list[tuple[int, int]] = []
    for start, end, kind in hits:
        if any(start < e and s < end for s, e in taken):
            continue
        if kind == "name" and own_wording(line, start, end):
            continue
        taken.append((start, end))
        yield kind, _safe_excerpt(line, start, end, known, common)


def _scan_text(text: str, known: list[str], is_html: bool,
               common: Vocabulary = NO_WORDS) -> Iterator[tuple[int, str, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, excerpt in _scan_line(html.unescape(line) if is_html else line, known, common):
            yield number, kind, excerpt


def _walk_json(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith(_SKIP_KEYS):
                child = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                yield child, str(key)
                yield from _walk_json(value, child)
    elif isinstance(node, list):
        if node and all(isinstance(v, str) for v in node):  # notebook multiline strings keep their "\n"
            yield pointer, ("".join if all(v.endswith("\n") for v in node[:-1]) else "\n".join)(node)
        else:
            for i, value in enumerate(node):
                yield from _walk_json(value, f"{pointer}/{i}")
    elif isinstance(node, str):
        yield pointer, node
    elif isinstance(node, int) and not isinstance(node, bool):
        yield pointer, str(node)  # a card number saved as a JSON integer


def _scan_value(value: str, known: list[str], is_html: bool,
                memo: dict[tuple[str, bool], list[tuple[int, str, str]]],
                common: Vocabulary = NO_WORDS) -> list[tuple[int, str, str]]:
    """``_scan_text`` of one JSON string, once per distinct string of a scan (a record repeats
    most of its strings -- keys, ids, amounts -- across its files; each still gets its own Leak)."""
    hits = memo.get((value, is_html))
    if hits is None:
        hits = memo[(value, is_html)] = list(_scan_text(value, known, is_html, common))
    return hits


#: A database's own files, never opened as plain files: closing a plain descriptor on a file
#: releases every POSIX lock this process holds on it, SQLite's and DuckDB's included
#: (sqlite.org/howtocorrupt.html, 2.2), so a scan inside a process with the ledger open could
#: let another writer corrupt it. Databases are read through their own library instead.
_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_DB_SIDE_FILES = ("-wal", "-shm", "-journal", ".wal", ".duckdb", ".duckdb.wal")


def _read_text(file: Path) -> str | None:
    """A file's text (UTF-8, or UTF-16/32 by its BOM), or None for a binary file (NUL bytes) or
    one that cannot be read. SQLite databases are read by :func:`_sqlite_text` (found by name,
    so they are never opened as plain files; a database's side files are skipped)."""
    name = file.name.lower()
    if name.endswith(_DB_SIDE_FILES):
        return None
    if name.endswith(_SQLITE_SUFFIXES):
        return _sqlite_text(file)
    try:
        data = file.read_bytes()
    except OSError:
        return None
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                       (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if data.startswith(b"SQLite format 3\x00"):
        return _sqlite_text(file)
    if b"\x00" in data[:65536]:
        return None
    return data.decode("utf-8", errors="replace")


def _sqlite_text(file: Path) -> str | None:
    """Every text cell of a SQLite file, one a line (opened read-only)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        lines: list[str] = []
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            for row in con.execute(f"SELECT * FROM {quoted}"):  # noqa: S608 -- a table name from the file itself, quoted
                lines += [cell for cell in row if isinstance(cell, str)]
        return "\n".join(line.replace("\n", " ") for line in lines)
    except sqlite3.Error:
        return None
    finally:
        con.close()


def _scan_file(file: Path, known: list[str],
               memo: dict[tuple[str, bool], list[tuple[int, str, str]]] | None = None,
               common: Vocabulary = NO_WORDS) -> list[Leak]:
    text = _read_text(file)
    if text is None:
        return []
    data: Any = None
    if file.suffix.lower() in _JSON_SUFFIXES:
        try:
            data = json.loads(text)
        except ValueError:  # a broken JSON file is still scanned, as text
            data = None
    elif file.suffix.lower() in (".jsonl", ".ndjson"):  # one JSON value a line: decoded, as a list
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()] or None
        except ValueError:
            data = None
    if data is None:
        is_html = file.suffix.lower() in _MARKUP_SUFFIXES
        return [Leak(str(file), line, kind, excerpt) for line, kind, excerpt in _scan_text(text, known, is_html, common)]
    memo = {} if memo is None else memo
    generated = _NOTEBOOK_GENERATED if file.suffix.lower() == ".ipynb" else None
    leaks = [Leak(str(file), line, kind, excerpt, pointer)
             for pointer, value in _walk_json(data, "") if not (generated and generated.match(pointer))
             for line, kind, excerpt in _scan_value(value, known, "html" in pointer or "svg" in pointer, memo, common)]
    seen = {leak.where for leak in leaks}
    return leaks + [leak for leak in _field_leaks(file, data, known) if leak.where not in seen]


def _field_leaks(file: Path, data: Any, known: list[str]) -> Iterator[Leak]:
    """Fields of Stripe objects that the privacy model would still mask: PII saved in clear."""
    if not any(o.get("object") in PII_KINDS for o in stripe_objects(data)):
        return
    own = customer_pii(o for o in stripe_objects(data) if o.get("object") == "customer")
    # the words the case saved it with (analysis.lexicon.case_words): the lexicon's, the catalogue's
    common = merge(VOCABULARY, catalogue_words(data, [*known, *own]))
    masked = mask_object(data, known=[*known, *own], common=common)
    yield from _diff(file, data, masked, "", False)


#: Fields of a street address (``customer.address``, ``shipping.address``, ``billing_details.address``).
_ADDRESS_FIELDS = frozenset({"line1", "line2", "postal_code", "city", "state", "town"})


def _kind(pointer: str) -> str:
    """The leak kind of a field the model masks: a bearer secret, a street address, or a field."""
    field = pointer.rsplit("/", 1)[-1]
    if field in BEARER_KEYS:
        return "secret"
    return "address" if field in _ADDRESS_FIELDS or field.endswith("address") else "field"


def _diff(file: Path, raw: Any, masked: Any, pointer: str, inside: bool) -> Iterator[Leak]:
    if isinstance(raw, dict) and isinstance(masked, dict):
        inside = inside or raw.get("object") in PII_KINDS
        for key, value in raw.items():
            child = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key in masked:
                yield from _diff(file, value, masked[key], child, inside)
            elif inside and value not in (None, "", {}, []):  # the model drops it (an address's street lines)
                yield Leak(str(file), 1, _kind(child), f"{key}: ***", child)
    elif isinstance(raw, list) and isinstance(masked, list) and len(raw) == len(masked):
        for i, (a, b) in enumerate(zip(raw, masked)):
            yield from _diff(file, a, b, f"{pointer}/{i}", inside)
    elif inside and raw != masked and raw not in (None, ""):
        field = pointer.rsplit("/", 1)[-1]
        yield Leak(str(file), 1, _kind(pointer), f"{field}: {masked if isinstance(masked, str) else '***'}", pointer)


def scan(path: Path, known: list[str] | None = None) -> list[Leak]:
    """Every leak in a file or folder; ``known`` adds exact strings (names, addresses) to look for.

    Folders are walked recursively over every regular file: text in UTF-8 or UTF-16/32 (by its
    BOM), SQLite databases (``.sqlite``, ``.sqlite3``, ``.db``) by their text cells through
    SQLite itself; other binary files (NUL bytes: images) and a database's side files (WAL,
    shared memory, journal; DuckDB files) are skipped. JSON files are decoded first, so escaped text
    (``\\u00e9``, ``\\n``) is seen as written; notebook images and widget buffers are
    skipped. A masked email (``j***@example.com``) is not a leak.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"cannot scan {path}: no such file or folder")
    needles = known_needles(known or [])
    if path.is_file():
        files = [path]
    else:  # every regular file: a leak in a .jsonl, .tsv, .yaml or extensionless file is one all the same
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    common = _case_words(files, needles) if any(known_kind(n) == "name" for n in needles) else NO_WORDS
    leaks: list[Leak] = []
    memo: dict[tuple[str, bool], list[tuple[int, str, str]]] = {}
    for file in files:
        leaks.extend(_scan_file(file, needles, memo, common))
    return leaks


def _case_words(files: list[Path], known: list[str]) -> Vocabulary:
    """The words the scanned records were masked with (``analysis.lexicon.case_words``): the
    lexicon's and the catalogue of every saved snapshot among ``files`` -- a known name inside a
    catalogue name (customer ``Acme Analytics``, product ``Acme Analytics Pro``) was kept readable
    there on purpose, and is no leak."""
    found = [VOCABULARY]
    for file in files:
        if file.suffix.lower() == ".json" and not file.name.lower().endswith(_DB_SIDE_FILES):
            try:
                data = json.loads(file.read_text(encoding="utf-8", errors="replace"))
            except (OSError, ValueError):
                continue
            found.append(catalogue_words(data, known))
    return merge(*found)
