"""Substring search ("contains", case-insensitive) on mailboxes and aliases that reads only the
rows that match, at 100,000 of each (issue 20).

PostgreSQL answers Django's `icontains` from the trigram indexes of migration 0011. SQLite has
no such index; there a full-text table with the trigram tokenizer (FTS5, SQLite ≥ 3.34) beside
each searched table holds copies of its searched columns, kept in step by triggers on that
table, and names the rows that contain the term. The `icontains` stays as well: the index
narrows, `LIKE` decides, so a search finds exactly what it found before (the index folds the
case of every letter; SQLite's LIKE only of A–Z).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connection, connections
from django.db.models import Model, Q
from django.db.models.expressions import RawSQL

INDEXED_LENGTH = 3  # the trigram tokenizer finds substrings of 3 characters or more


@dataclass(frozen=True)
class SearchIndex:
    table: str  # the searched table
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.table}_search"

    @property
    def triggers(self) -> dict[str, str]:
        """The triggers that keep the index in step with its table, by name. (Every name in
        this module's SQL comes from INDEXES, never from input.)"""
        columns = ", ".join(self.columns)
        new = ", ".join(f"new.{column}" for column in self.columns)
        changes = ", ".join(f"{column} = new.{column}" for column in self.columns)
        table, name = self.table, self.name
        insert = f"INSERT INTO {name} (rowid, {columns}) VALUES (new.id, {new})"  # noqa: S608
        update = f"UPDATE {name} SET {changes} WHERE rowid = new.id"  # noqa: S608
        delete = f"DELETE FROM {name} WHERE rowid = old.id"  # noqa: S608
        return {
            f"{name}_insert": f"AFTER INSERT ON {table} BEGIN {insert}; END",
            f"{name}_update": f"AFTER UPDATE OF {columns} ON {table} BEGIN {update}; END",
            f"{name}_delete": f"AFTER DELETE ON {table} BEGIN {delete}; END",
        }


INDEXES = {
    "mail_mailbox": SearchIndex("mail_mailbox", ("local_part", "display_name")),
    "mail_alias": SearchIndex("mail_alias", ("local_part",)),
}


def contains(model: type[Model], columns: tuple[str, ...], term: str) -> Q:
    """Rows of `model` one of whose `columns` contains `term` (Django's icontains), narrowed on
    SQLite by the trigram index to the rows it names."""
    found = reduce(or_, (Q(**{f"{column}__icontains": term}) for column in columns))
    if connection.vendor != "sqlite" or len(term) < INDEXED_LENGTH:
        return found
    index = INDEXES[model._meta.db_table]
    # A quoted phrase: every character of the term literal, a quote written twice.
    phrase = '"' + term.replace('"', '""') + '"'
    match = "{" + " ".join(columns) + "} : " + phrase
    found_rows = f"SELECT rowid FROM {index.name} WHERE {index.name} MATCH %s"  # noqa: S608
    rows = RawSQL(found_rows, [match])  # noqa: S611 - the term is a parameter
    return found & Q(pk__in=rows)


# --- the index's tables on SQLite: made by migration mail 0016, repaired after a migrate ------


def create(schema_editor) -> None:
    """The full-text tables and their triggers, filled from the rows already there."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for index in INDEXES.values():
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {index.name} USING fts5"
            f"({', '.join(index.columns)}, tokenize = 'trigram')"
        )
        _fill(schema_editor.execute, index)


def drop(schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for index in INDEXES.values():
        for trigger in index.triggers:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {index.name}")


def _fill(execute: Callable[[str], object], index: SearchIndex) -> None:
    """The index's triggers made (those missing) and its rows copied afresh from its table."""
    for trigger, body in index.triggers.items():
        execute(f"CREATE TRIGGER IF NOT EXISTS {trigger} {body}")
    columns = ", ".join(index.columns)
    execute(f"DELETE FROM {index.name}")  # noqa: S608
    copy = f"INSERT INTO {index.name} (rowid, {columns}) SELECT id, {columns} FROM"  # noqa: S608
    execute(f"{copy} {index.table}")


def repair(sender, using: str = "default", **kwargs) -> None:
    """After a migrate (post_migrate): SQLite alters a column by copying the table and dropping
    the old one, and its triggers go with it; then they are made again and the index refilled,
    so a later migration of Mailbox or Alias cannot leave searches blind to new rows."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {name for (name,) in cursor.fetchall()}
        for index in INDEXES.values():
            if index.name in present and not set(index.triggers) <= present:
                _fill(cursor.execute, index)
