"""Where the connect dialog's choices come from: profiles as libpq URLs, the service files."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcbook.models.server import parse_address, profile_url, service_names, service_url


@pytest.mark.parametrize(
    ("fields", "parameters"),
    [
        (
            {"host": "db.example.co.jp", "port": "5433", "dbname": "etcbook", "user": "keiri"},
            {"host": "db.example.co.jp", "port": "5433", "dbname": "etcbook", "user": "keiri"},
        ),
        (
            {"host": "/var/run/postgresql", "port": "", "dbname": "経費", "user": "山田"},
            {"host": "/var/run/postgresql", "dbname": "経費", "user": "山田"},
        ),
        (
            {"host": "::1", "port": "", "dbname": "etcbook", "user": ""},
            {"host": "::1", "dbname": "etcbook"},
        ),
        (
            {"host": "", "port": "", "dbname": "a b#c", "user": "x@y"},
            {"dbname": "a b#c", "user": "x@y"},
        ),
    ],
)
def test_a_profile_becomes_the_libpq_url_of_its_fields(
    fields: dict[str, str], parameters: dict[str, str]
) -> None:
    assert parse_address(profile_url(**fields)).parameters == parameters


def test_services_come_from_both_files_the_users_first_without_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user.conf"
    user.write_text(
        "[honsha]\nhost=db.example.co.jp\ndbname=etcbook\npassword=secret\n", encoding="utf-8"
    )
    system = tmp_path / "sys"
    system.mkdir()
    (system / "pg_service.conf").write_text(
        "[honsha]\nhost=elsewhere\n\n[shiten]\nhost=10.0.0.5\ndbname=osaka\n", encoding="utf-8"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(user))
    monkeypatch.setenv("PGSYSCONFDIR", str(system))
    assert service_names() == [
        ("honsha", {"host": "db.example.co.jp", "dbname": "etcbook"}),
        ("shiten", {"host": "10.0.0.5", "dbname": "osaka"}),
    ]
    assert parse_address(service_url("shiten")).parameters == {"service": "shiten"}


def test_an_unreadable_service_file_lists_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_bytes(b"\xff\xfe not ini [")
    monkeypatch.setenv("PGSERVICEFILE", str(broken))
    monkeypatch.delenv("PGSYSCONFDIR", raising=False)
    assert service_names() == []
