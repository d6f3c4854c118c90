"""A credential's row and its account in one indexed query: the check of every API request.

Both kinds of bearer credential (API tokens, API keys) are looked up by the SHA-256 of the
secret, with the account they act as, in one SELECT. The ORM would compile the same two-table
SELECT and look up the same column converters on every request, which cost more than running
it (README "Benchmarks", the API token check): here they are built once per process per model.
"""

import functools
import hashlib

from django.db import connection, models

from adminpanel.accounts.models import Account


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a secret of >= 128 random bits: no salt or slow hash needed."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _lookup(model: type[models.Model], hash_field: str) -> tuple:
    """The SELECT, the attribute names of both rows and the column converters, for `model`
    (which has a ForeignKey `account`) looked up by its unique `hash_field`."""
    quote = connection.ops.quote_name
    own_fields = list(model._meta.concrete_fields)
    account_fields = list(Account._meta.concrete_fields)
    columns = [f"t.{quote(f.column)}" for f in own_fields]
    columns += [f"a.{quote(f.column)}" for f in account_fields]
    # Only quoted names from the models go into the text; the hash is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t "  # noqa: S608
        f"JOIN {quote(Account._meta.db_table)} a ON a.{quote(Account._meta.pk.column)} = "
        f"t.{quote(model._meta.get_field('account').column)} "
        f"WHERE t.{quote(model._meta.get_field(hash_field).column)} = %s"
    )
    converters = []
    for index, field in enumerate(own_fields + account_fields):
        expression = field.get_col(field.model._meta.db_table)
        found = connection.ops.get_db_converters(expression)
        found += expression.get_db_converters(connection)
        if found:
            converters.append((index, found, expression))
    return (
        sql,
        [f.attname for f in own_fields],
        [f.attname for f in account_fields],
        converters,
    )


def with_account(model: type[models.Model], hash_field: str, secret_hash: str):
    """The row of `model` whose `hash_field` is `secret_hash`, its `.account` loaded; or None."""
    sql, own_names, account_names, converters = _lookup(model, hash_field)
    with connection.cursor() as cursor:
        cursor.execute(sql, [secret_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, functions, expression in converters:
        for convert in functions:
            values[index] = convert(values[index], expression, connection)
    split = len(own_names)
    record = model.from_db(connection.alias, own_names, values[:split])
    record.account = Account.from_db(connection.alias, account_names, values[split:])
    return record
