"""Bulk SQL on PostgreSQL without psycopg adapting values one by one.

Many rows written in one upsert: COPYed into a temporary table of the same columns, then one
INSERT ... SELECT ... ON CONFLICT. Cheaper than an INSERT with one array parameter per column, which psycopg
adapts element by element (quoting every string), or than bulk_create's placeholders. And many ids sent as one
array literal."""
from collections.abc import Iterable, Sequence

from django.db import connection, transaction


def rows_upsert_by_copy(*, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[object]] | str,
                        on_conflict: str) -> None:
    """Insert `rows` (values in the order of `columns`, pairs of name and SQL type; or text already in COPY's
    format) into `table`; `on_conflict` is the statement's ON CONFLICT clause. PostgreSQL only: callers keep a
    portable path for SQLite."""
    names = ", ".join(name for name, _ in columns)
    stage = f"finecurate_stage_{table}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
                       f"({', '.join(f'{name} {kind}' for name, kind in columns)}) ON COMMIT DELETE ROWS")
        with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            if isinstance(rows, str):
                copy.write(rows)
            else:
                for row in rows:
                    copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {on_conflict}")  # noqa: S608
        cursor.execute(f"TRUNCATE {stage}")  # inside a caller's transaction the rows would stay until its commit


def id_array(ids: list[int]) -> str:
    """Ids as a PostgreSQL array literal, for `= ANY(%s::bigint[])`: psycopg adapts a list of thousands of ints
    element by element, which costs more than the query it is for."""
    return "{" + ",".join(map(str, ids)) + "}"
