"""What every command shares: the store, JSON and table output, exit statuses."""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from etcbook.models.card_name import CardName
from etcbook.paths import default_store_path, store_location_warning

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.models.server import ServerAddress
    from etcbook.models.server_reader import ServerReader
    from etcbook.models.store import Store

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_BUSY = 75
"""The store is locked by another process for longer than we waited (EX_TEMPFAIL: try again)."""


class Parser(argparse.ArgumentParser):
    """argparse with Japanese-friendly usage errors on stderr and exit status 2."""

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse turns "--holder=--" into an empty list instead of a value or an error.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"{action.option_strings[-1]} の値に「--」は使えません")
        return super()._get_values(action, arg_strings)

    def _get_value(self, action: argparse.Action, arg_string: str) -> object:
        value = super()._get_value(action, arg_string)
        # An id or amount SQLite cannot hold (64-bit) is a usage error, not an OverflowError.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            name = action.option_strings[-1] if action.option_strings else action.metavar
            self.error(f"{name or action.dest} の値が大きすぎます: {arg_string}")
        return value

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        say(f"{self.prog}: 使い方の誤り: {message}")
        raise SystemExit(EXIT_USAGE)


class BadInput(Exception):
    """Bad input from the user: the message is printed on stderr, exit status 3, nothing changed."""


def configure_streams(*, json_output: bool = False) -> None:
    """Make stdout and stderr able to print every character etcbook prints.

    Redirected or piped output (``> out.json``, ``| findstr``, PowerShell, Task Scheduler)
    would otherwise be encoded in the locale's code page (cp932 on Japanese Windows), which
    has no ``—``, ``≈``, 𠮷 or emoji: such output, and stdout under ``--json`` (JSON is
    UTF-8), is switched to UTF-8. A terminal that is not UTF-8 keeps its encoding and shows a
    character it cannot print as ``\\uXXXX`` instead of failing. (A Windows console is UTF-8
    already.) Streams of other kinds (pythonw's None, test captures) are left alone.
    """
    for stream, utf8 in ((sys.stdout, json_output), (sys.stderr, False)):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            encoding = codecs.lookup(stream.encoding or "utf-8").name
            terminal = stream.isatty()
        except (AttributeError, LookupError, ValueError, OSError):
            continue
        if encoding == "utf-8":
            continue
        if utf8 or not terminal:
            reconfigure(encoding="utf-8", errors="backslashreplace")
        else:
            reconfigure(errors="backslashreplace")


def say(message: str) -> None:
    """A message for the user, on stderr (stdout is reserved for data)."""
    print(message, file=sys.stderr, flush=True)


def db_argument(text: str) -> Path | ServerAddress:
    """``--db``: a store file's path, or a PostgreSQL URL (refused when it holds a password)."""
    from etcbook.models.server import ServerError, is_server_url, parse_address

    if is_server_url(text):
        try:
            return parse_address(text)
        except ServerError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return Path(text)


@dataclass
class CliContext:
    """The store a command works on, opened on first use."""

    db: Path | ServerAddress | None = None
    light_reads: bool = False
    """The command only reads (``set_defaults(light_reads=True)``): on a server ledger,
    :meth:`reading` gives a :class:`etcbook.models.server_reader.ServerReader`."""
    _store: Store | None = field(default=None, repr=False)
    _reader: ServerReader | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        """The store file's path (on PostgreSQL: the local stand-in, see Store.path)."""
        if self._store is not None:
            return self._store.path
        target = self.target
        if isinstance(target, Path):
            return target
        from etcbook.models.server import ServerAddress

        if isinstance(target, ServerAddress):
            return target.local_folder() / "ledger"
        return Path(target)

    @property
    def target(self) -> Path | ServerAddress | str:
        """Where the store is: --db, else ETCBOOK_DB (a path or a URL), else the default file."""
        return self.db if self.db is not None else default_store_path()

    @property
    def store(self) -> Store:
        if self._store is None:
            from etcbook.models.store import StoreError, open_store

            try:
                self._store = open_store(self.target)
            except StoreError as exc:
                raise BadInput(str(exc)) from None
            if self._store.backup is not None:
                say(f"ストアを更新しました。更新前のコピー: {self._store.backup}")
            warning = store_location_warning(self._store.path)
            if warning is not None:
                say(warning)
        return self._store

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection to read with: the store engine's, or for a command with
        :attr:`light_reads` on a server ledger that needs no upgrade, a reader without
        SQLAlchemy answering the same reads (``etcbook.models.server_reader``)."""
        if self.light_reads and self._store is None:
            from etcbook.models.server import (
                ServerAddress,
                ServerError,
                is_server_url,
                parse_address,
            )

            target = self.target
            if isinstance(target, str) and is_server_url(target):
                with suppress(ServerError):  # the store's way says what is wrong with it
                    target = parse_address(target)
            if self._reader is None and isinstance(target, ServerAddress):
                from etcbook.models.server_reader import open_reader

                self._reader = open_reader(target)
                if self._reader is None:
                    self.light_reads = False  # the store opens as usual and says why
            if self._reader is not None:
                yield cast("Connection", self._reader)
                return
        with self.store.engine.connect() as connection:
            yield connection

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._store is not None:
            self._store.close()


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="結果をJSONで標準出力に出す")


def _default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(document: object) -> None:
    """Exactly one JSON document on stdout."""
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write("\n")
    sys.stdout.flush()


def emit(args: argparse.Namespace, document: object, human: Callable[[], str]) -> None:
    """JSON with ``--json``, else the human-readable rendering."""
    if getattr(args, "json", False):
        print_json(document)
    else:
        sys.stdout.write(human().rstrip("\n") + "\n")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], right: Sequence[int] = ()
) -> str:
    """A plain text table aligned for full-width characters; ``right`` lists right-aligned columns."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - display_width(value))
            parts.append(pad + value if i in right else value + pad)
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


YEARS = range(1900, 3000)
"""Years a date on the command line may have: date arithmetic near 9999 overflows."""


def _in_years(value: dt.date, text: str) -> None:
    if value.year not in YEARS:
        raise argparse.ArgumentTypeError(
            f"{YEARS.start}年から{YEARS.stop - 1}年までの日付で指定してください: {text!r}"
        )


def parse_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD."""
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日付は YYYY-MM-DD で指定してください: {text!r}"
        ) from None
    _in_years(value, text)
    return value


def parse_datetime(text: str) -> dt.datetime:
    """argparse type for YYYY-MM-DDTHH:MM."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日時は YYYY-MM-DDTHH:MM で指定してください: {text!r}"
        ) from None
    if value.tzinfo is not None:
        raise argparse.ArgumentTypeError(f"日時にタイムゾーンは付けません（日本時間）: {text!r}")
    _in_years(value, text)
    return value


def parse_month(text: str) -> str:
    """argparse type for YYYY-MM."""
    try:
        value = dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"月は YYYY-MM で指定してください: {text!r}") from None
    _in_years(value, text)
    return value.strftime("%Y-%m")


_TYPED_DIGITS = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
"""Full-width digits and signs, as typed with a Japanese IME, read as ASCII ones."""

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def whole_number(text: str, *, ignore: str = "") -> int:
    """The integer ``text`` writes in ASCII or full-width digits, the characters of ``ignore``
    (``,`` ``円`` …) left out; ``ValueError`` otherwise.

    Stricter than ``int()``, which also reads other scripts' digits (``٢٣٤٥``) and ``1_000``.

    >>> whole_number("１，２００円", ignore=",，円")
    1200
    """
    cleaned = text.strip().translate(_TYPED_DIGITS)
    for character in ignore:
        cleaned = cleaned.replace(character, "")
    if not _WHOLE_NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a whole number: {text!r}")
    return int(cleaned)


def parse_int(text: str) -> int:
    """argparse type for a whole number (an id, a count, a percentage)."""
    try:
        return whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"整数で指定してください: {text!r}") from None


def parse_yen(text: str) -> int:
    """argparse type for an integer yen amount (``1,200`` and ``1200円`` too)."""
    try:
        return whole_number(text, ignore=",，円")
    except ValueError:
        raise argparse.ArgumentTypeError(f"金額は整数の円で指定してください: {text!r}") from None


class CardReference(str):
    """What was typed to name a card (``--card``, ``card edit CARD`` …): its id (``id:N``), its
    呼び名, its last 4 digits (or a card number), a 名義 or 利用者. The CLI resolves it against the
    store before the command runs (:func:`resolve_card_references`)."""


class CardOrNewLast4(CardReference):
    """A :class:`CardReference`, or the last 4 digits of a card not registered yet (the import
    creates it): resolves to a :class:`ChosenCard` whose ``id`` is None then."""


class ChosenCard(CardName):
    """A card a :class:`CardReference` resolved to. The text is its last 4 digits (what commands
    keyed by last 4 read); ``id`` says which card it is when other cards share those digits
    (None: a card not registered yet, see :class:`CardOrNewLast4`). The models select the
    card's rows by that id (:func:`etcbook.models.card_refs.card_id_for`)."""

    @property
    def known_id(self) -> int:
        """The id of a registered card; digits no card has are bad input (the sentence of
        :class:`etcbook.models.cards.CardNotFound`)."""
        if self.id is None:
            from etcbook.models.card_refs import CardNotFound

            raise BadInput(str(CardNotFound(str(self))))
        return self.id


CARD_METAVAR = "CARD"
CARD_HELP = "カード: 末尾4桁、id:番号、呼び名（同じ末尾4桁のカードが複数あるときは id か呼び名）"


def card_reference(text: str) -> CardReference:
    """argparse type for a card (see :class:`CardReference`); resolved once the store is open."""
    typed = text.strip()
    if not typed:
        raise argparse.ArgumentTypeError(
            "カードを末尾4桁、id:番号、呼び名のどれかで指定してください"
        )
    if re.fullmatch(r"[0-9０-９*＊\s\-]+", typed):
        # Digits are a card number (its last 4 are kept); an id is written id:N.
        return CardReference(parse_last4(typed))
    return CardReference(typed)


def card_or_new_last4(text: str) -> CardOrNewLast4:
    """argparse type for a card, or the last 4 digits of one not registered yet."""
    return CardOrNewLast4(card_reference(text))


_CARD_NUMBER = re.compile(r"[0-9０-９*＊\s\-]*[0-9０-９]{4}")


def resolve_card_references(args: argparse.Namespace, context: CliContext) -> None:
    """Replace every :class:`CardReference` among the parsed arguments by the card it names
    (a :class:`ChosenCard`), through ``etcbook.models.cards.resolve_card``, the one resolver.

    An ambiguous reference is bad input (exit 3) listing the candidates: id, last 4,
    呼び名/名義, 部署; so is an unknown id or label, and another driver's card (said so).
    Digits no card has are passed on as they are (``id`` None): each command answers them as
    it always has. A card whose last 4 digits another card shares is
    refused by commands still keyed by last 4 (they would mix the two cards); commands that
    tell cards apart by id say so with ``set_defaults(card_ids=True)``.
    """
    names = [
        name
        for name, value in vars(args).items()
        if isinstance(value, CardReference)
        or (isinstance(value, list) and any(isinstance(v, CardReference) for v in value))
    ]
    if not names:
        return
    from etcbook.models.card_refs import AmbiguousCard, CardNotFound, resolve_card

    def chosen(value: CardReference, connection: Connection) -> ChosenCard:
        try:
            match = resolve_card(connection, value)
        except CardNotFound as exc:
            from etcbook.models.refusals import card_not_yours

            refused = card_not_yours(connection, value)
            if refused is not None:
                raise BadInput(refused) from None
            by_id = getattr(args, "card_ids", False)
            if _CARD_NUMBER.fullmatch(value) and (isinstance(value, CardOrNewLast4) or not by_id):
                # Digits no card has: the command's own answer, as before (a search finds
                # nothing, evidence is kept under the digits, the import creates the card).
                from etcbook.domain.cards import check_last4

                return ChosenCard.of(check_last4(value), None)
            raise BadInput(str(exc)) from None
        except AmbiguousCard as exc:
            raise BadInput(str(exc)) from None
        if match.shared and not getattr(args, "card_ids", False):
            raise BadInput(
                f"カード id:{match.id}（末尾{match.last4}）は末尾4桁が他のカードと同じです。"
                f"この機能はまだ末尾4桁でカードを区別するため、末尾{match.last4}のカードには使えません。"
                "何も変更していません。"
            )
        return ChosenCard.of(match.last4, match.id)

    with context.reading() as connection:
        for name in names:
            value = getattr(args, name)
            if isinstance(value, list):
                setattr(
                    args,
                    name,
                    [chosen(v, connection) if isinstance(v, CardReference) else v for v in value],
                )
            else:
                setattr(args, name, chosen(value, connection))


def parse_last4(text: str) -> str:
    """argparse type for a card's last 4 digits (a full number is cut to its last 4)."""
    from etcbook.domain.cards import check_last4

    try:
        return check_last4(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
