"""The data version and the engine's cached results (etcbook.models.engine_cache)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from etcbook import clock
from etcbook.domain.rules import default_rules_path, load_rules
from etcbook.models import engine_cache
from etcbook.models.engine_cache import cached, data_version, loads, write_cached
from etcbook.models.store import open_store
from tests.conftest import Cli


def version_of(store) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as connection:
        version = data_version(connection=connection)
    assert version is not None
    return version


def test_every_change_bumps_the_version_and_nothing_else_does(store_path: Path) -> None:
    from etcbook.models.cards import create_card

    store = open_store(store_path)
    try:
        start = version_of(store)
        with store.engine.connect() as connection:  # a read
            connection.exec_driver_sql("SELECT count(*) FROM trips").all()
            connection.commit()
        with store.transaction():  # a write transaction that writes nothing
            pass
        assert version_of(store) == start
        with store.session(write=True) as session:
            create_card(session=session, last4="1234", holder="山田太郎")
        assert version_of(store) == start + 1
        with store.transaction() as connection:
            connection.exec_driver_sql("UPDATE cards SET holder = '山田花子'")
        assert version_of(store) == start + 2
        with pytest.raises(RuntimeError), store.transaction() as connection:
            connection.exec_driver_sql("UPDATE cards SET holder = '誰か'")
            raise RuntimeError("rolled back")
        assert version_of(store) == start + 2
        assert write_cached(store, name="x", key="k", value=[1, 2])  # the cache's own write
        assert version_of(store) == start + 2
    finally:
        store.close()


def test_a_change_from_another_process_makes_the_kept_states_unused(
    demo_store_path: Path,
) -> None:
    from etcbook.models.mileage_inputs import card_states

    rules = load_rules()
    as_of = clock.today()
    store = open_store(demo_store_path)
    try:

        def states(connection):  # type: ignore[no-untyped-def]
            return cached(
                connection=connection,
                name="card_states",
                as_of=as_of,
                rules_path=default_rules_path(),
                compute=lambda: card_states(connection=connection, as_of=as_of, rules=rules),
            )

        with store.engine.connect() as connection:
            replayed, key, from_cache = states(connection)
        assert not from_cache and key is not None
        assert write_cached(store, name="card_states", key=key, value=replayed)
        with store.engine.connect() as connection:
            kept, same_key, from_cache = states(connection)
        assert from_cache and same_key == key
        assert kept == replayed  # every state field, trip results included

        Cli(demo_store_path)(
            "adjust", "--card", "1234", "--points", "100", "--pool", "nexco",
            "--on", as_of.isoformat(), "--reason", "テスト", check=True,
        )  # fmt: skip
        with store.engine.connect() as connection:
            fresh, new_key, from_cache = states(connection)
        assert not from_cache and new_key != key
        before = next(s for s in replayed if s.card == "1234")
        after = next(s for s in fresh if s.card == "1234")
        assert after.points("nexco") == before.points("nexco") + 100
    finally:
        store.close()


def test_the_key_follows_the_day_the_rules_and_the_version(tmp_path: Path) -> None:
    rules = tmp_path / "operators.toml"
    rules.write_bytes(default_rules_path().read_bytes())
    day = clock.today()
    key = engine_cache.cache_key(version=3, as_of=day, rules_path=rules)
    assert engine_cache.cache_key(version=3, as_of=day, rules_path=rules) == key
    assert engine_cache.cache_key(version=4, as_of=day, rules_path=rules) != key
    assert engine_cache.cache_key(version=3, as_of=day.replace(day=1), rules_path=rules) != key
    rules.write_bytes(rules.read_bytes() + b"\n# edited\n")
    assert engine_cache.cache_key(version=3, as_of=day, rules_path=rules) != key


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo should-not-run",))


def test_a_payload_naming_other_code_is_refused() -> None:
    with pytest.raises(pickle.UnpicklingError):
        loads(pickle.dumps(_Evil()))
