"""A throwaway PostgreSQL database for one benchmark, made on DATABASE_URL's server and dropped after it."""
from urllib.parse import urlsplit, urlunsplit

import psycopg


def database_url(base: str, name: str) -> str:
    """`base` with its database name replaced by `name`."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def database_recreate(base: str, name: str) -> str:
    """Drop `name` if it exists (a crashed earlier run), create it empty, and return its URL."""
    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(base, name)


def database_drop(base: str, name: str) -> None:
    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
