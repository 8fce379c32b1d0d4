"""A throwaway database on the configured server, so benchmarks never touch real data."""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def _admin_url(url: str) -> str:
    parsed = dj_database_url.parse(url)
    host = parsed["HOST"] or ""
    conninfo = {
        "dbname": "postgres",
        "user": parsed["USER"] or None,
        "password": parsed["PASSWORD"] or None,
        "host": host or None,
        "port": parsed["PORT"] or None,
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in conninfo.items() if v})


def database_url(url: str, name: str) -> str:
    """The URL of database `name` on the server of `url`."""
    return url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def bench_database():
    """Create a fresh database, point Django at it, migrate, yield its conninfo, drop it."""
    sys.path.insert(0, str(ROOT))
    base_url = os.environ["DATABASE_URL"]
    name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
    admin = _admin_url(base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = database_url(base_url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LEDGER_ENV", "development")
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    try:
        yield admin.replace("dbname=postgres", f"dbname={name}")
    finally:
        connection.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
