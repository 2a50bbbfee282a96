"""A first look at a store before it opens (etcbook.models.first_look): the kept result of the
data as they are now, read with sqlite3 alone; nothing once the data changed or the store needs
opening first."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from etcbook import clock
from etcbook.domain.fleet import CardFacet
from etcbook.models.engine_cache import current_key, write_cached
from etcbook.models.first_look import first_look
from etcbook.models.store import Store, open_store
from etcbook.paths import RULES_FILE
from tests.conftest import Cli

NAME = "first-look-test"


def look(path: Path):  # type: ignore[no-untyped-def]
    return first_look(path, as_of=clock.today(), rules_path=RULES_FILE, name=NAME)


def keep(store: Store, value: object) -> str:
    with store.engine.connect() as connection:
        key = current_key(connection=connection, as_of=clock.today(), rules_path=RULES_FILE)
    assert key is not None
    assert write_cached(store, name=NAME, key=key, value=value)
    return key


def test_the_kept_result_of_the_current_data_and_the_cards(demo_store_path: Path) -> None:
    store = open_store(demo_store_path)
    try:
        key = keep(store, {"figures": [1, 2, 3]})
        with store.engine.connect() as connection:
            cards = connection.exec_driver_sql(
                "SELECT last4, holder FROM cards ORDER BY household, holder, last4"
            ).all()
    finally:
        store.close()
    seen = look(demo_store_path)
    assert seen is not None
    assert seen.kept == {"figures": [1, 2, 3]} and seen.key == key
    assert seen.as_of == clock.today()
    assert [(f.last4, f.holder) for f in seen.facets] == [tuple(row) for row in cards]
    assert all(isinstance(f, CardFacet) for f in seen.facets)


def test_nothing_once_another_process_changed_the_store(demo_store_path: Path) -> None:
    store = open_store(demo_store_path)
    try:
        keep(store, "before the change")
    finally:
        store.close()
    assert look(demo_store_path) is not None
    Cli(demo_store_path)(
        "adjust", "--card", "1234", "--rebate", "100", "--on", clock.today().isoformat(),
        "--reason", "テスト", check=True,
    )  # fmt: skip
    assert look(demo_store_path) is None  # the kept result is of the data before the change


def test_nothing_for_a_store_that_needs_opening_first(
    tmp_path: Path, demo_store_path: Path
) -> None:
    missing = tmp_path / "missing" / "store.sqlite3"
    assert look(missing) is None
    assert not missing.parent.exists()  # nothing created
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert look(empty) is None
    other = tmp_path / "other.sqlite3"
    other.write_bytes(b"not a database at all" * 100)
    assert look(other) is None
    plain = tmp_path / "plain.sqlite3"
    sqlite3.connect(plain).close()
    assert look(plain) is None

    store = open_store(demo_store_path)
    try:
        keep(store, "kept")
    finally:
        store.close()
    db = sqlite3.connect(demo_store_path)
    with db:
        db.execute("UPDATE alembic_version SET version_num = 'older'")
    db.close()
    assert look(demo_store_path) is None  # an upgrade comes first


def test_nothing_for_a_store_without_cards(store_path: Path) -> None:
    store = open_store(store_path)
    try:
        keep(store, "kept")
    finally:
        store.close()
    assert look(store_path) is None  # the welcome page, which the open store decides


def test_the_look_loads_neither_sqlalchemy_nor_alembic(demo_store_path: Path) -> None:
    store = open_store(demo_store_path)
    try:
        keep(store, [1])
    finally:
        store.close()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from etcbook import clock\n"
        "from etcbook.models.first_look import first_look\n"
        "from etcbook.paths import RULES_FILE\n"
        f"seen = first_look(Path(sys.argv[1]), as_of=clock.today(), rules_path=RULES_FILE, name={NAME!r})\n"
        "print(seen.kept, sorted(m for m in ('sqlalchemy', 'sqlmodel', 'alembic') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(demo_store_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.split() == ["[1]", "[]"]
