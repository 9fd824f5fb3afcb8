"""French collation of names, the same on SQLite and PostgreSQL.

A byte order puts "Çelik" and "Écuyer" after "Zola", and "Périer" after
"Perrin" ("é" is above "r"). French order compares the letters first, accents
and case aside, then breaks ties on the accents, then on the case: Celik,
Çelik, Écuyer, Eddy, Périer, Perrin.

`French(expression)` (a field name or an expression) is what to ORDER BY:

- PostgreSQL: the ICU collation "fr-x-icu" (shipped with every ICU build);
- SQLite has no such collation: `register_sqlite_collation` (connected to
  `connection_created` in `core.apps`) gives each SQLite connection a "fr"
  collation computing the same three-level key in Python (`sort_key`);
- another database: the plain expression (its own order).
"""

import functools
import unicodedata

from django.db.models import F
from django.db.models.functions import Collate

COLLATIONS = {"postgresql": "fr-x-icu", "sqlite": "fr"}


@functools.lru_cache(maxsize=4096)
def sort_key(text):
    """(letters, accents, case) of `text`: the letters compared without accents
    nor case, then the accents letter by letter (none first), then the case
    (lower first), as ICU's French collation does."""
    letters, accents, cases = [], [], []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and letters:
            accents[-1] += char
            continue
        base = char.casefold()
        letters.append(base)
        accents.append("")
        cases.append(char != base)
    return ("".join(letters), tuple(accents), tuple(cases), text)


def compare(left, right):
    """The SQLite collation function: -1, 0 or 1."""
    left, right = sort_key(left), sort_key(right)
    return (left > right) - (left < right)


def register_sqlite_collation(sender, connection, **kwargs):
    """`connection_created` receiver: the "fr" collation on each SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(COLLATIONS["sqlite"], compare)


class French(Collate):
    """`expression COLLATE <the database's French collation>`."""

    def __init__(self, expression):
        super().__init__(F(expression) if isinstance(expression, str) else expression, "fr")

    def as_sql(self, compiler, connection, **extra_context):
        collation = COLLATIONS.get(connection.vendor)
        if collation is None:
            return compiler.compile(self.get_source_expressions()[0])
        extra_context["collation"] = connection.ops.quote_name(collation)
        return super().as_sql(compiler, connection, **extra_context)
