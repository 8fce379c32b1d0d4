"""The application's database role: it may append to the log but never change it.

The tables' owner (the role that runs migrations) keeps every right; the role the web, worker,
beat and relay processes connect as gets SELECT and INSERT on the log's append-only tables and
ordinary row rights on the rest. Not owning the tables, it can neither disable the append-only
triggers nor drop them. Rebuilding projections (TRUNCATE, LOCK) stays an operator's task run
as the owner."""

from __future__ import annotations

from typing import Any

from psycopg import sql

# Protected by ALWAYS triggers (migrations 0001 and 0006); the application only adds rows.
APPEND_ONLY_TABLES = (
    "eventstore_event",
    "eventstore_leaf",
    "eventstore_checkpoint",
    "eventstore_subtree",
)


def grant_application_role(cursor: Any, role: str, password: str | None = None) -> list[str]:
    """Create `role` if it does not exist (LOGIN when a password is given) and grant it exactly
    what the running service needs on every table of the current schema. Safe to run again
    after each migration; returns the tables granted."""
    name = sql.Identifier(role)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if cursor.fetchone() is None:
        cursor.execute(
            sql.SQL("CREATE ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(name)
        )
    cursor.execute(
        sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(name)
    )
    if password is not None:
        cursor.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
        )
    cursor.execute("SELECT current_database(), current_schema()")
    database, schema = cursor.fetchone()
    cursor.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name)
    )
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), name))
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        target = sql.Identifier(table)
        cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, name))
        rights = (
            "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT, INSERT, UPDATE, DELETE"
        )
        cursor.execute(sql.SQL("GRANT " + rights + " ON {} TO {}").format(target, name))
    cursor.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), name
        )
    )
    return tables
