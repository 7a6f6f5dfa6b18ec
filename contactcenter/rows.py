"""Hot single-row reads, their SQL built once per process.

The ORM builds a query's SQL again on every call, and for a model with many columns that
costs several times the read itself. On a busy floor every agent action and every telephony
event reads a call, a presence or a queue this way. get_row reads one row of a model by a
fixed condition with SQL built once from the model's metadata, and converts each value as
the ORM converts its own results (the backend's and the field's converters), so the
instance is the one the ORM would return."""

import functools

from django.db import connection


@functools.cache
def _select(model, where: str, lock: bool, vendor: str):
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {where}"  # noqa: S608 -- model's names
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converters.append((column, tuple(found)))
    return sql, [f.attname for f in fields], converters


def get_row(model, where: str, params, *, lock: bool = False):
    """The instance of `model` whose row matches `where` (columns of its own table, with %s
    parameters; at most one row must match), or None. lock: FOR UPDATE, where the database
    has it."""
    sql, names, converters = _select(model, where, lock, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, found) in zip(row, converters, strict=True):
        for converter in found:
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, names, values)
