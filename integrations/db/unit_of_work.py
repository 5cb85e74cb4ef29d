"""One unit of work's tools, bound to the connection of its transaction.

`service.context.Context.tx` opens one and maps what the store raises to the domain's errors;
the SQLAlchemy types stay on this side of that line (import-linter: "SQL only in db")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from integrations.db.repository import Store
from integrations.db.stock import StockStore
from integrations.db.writer import Writer

__all__ = ["Engine", "Tx", "tx_on"]  # Engine: the type a Context holds


@dataclass(frozen=True, slots=True)
class Tx:
    """One unit of work: everything done through it commits or rolls back together."""

    connection: Connection
    store: Store
    stock: StockStore
    writer: Writer

    def fresh(self) -> Tx:
        """These tools for a new unit of work on the same connection: what the last one
        remembered (turns it held, timers it touched) forgotten."""
        self.store.forget()
        self.writer.timers_touched.clear()
        return self


def tx_on(connection: Connection) -> Tx:
    """The tools of the unit of work running on `connection` (a plain call, not one more
    context manager around each transaction). One `Sql` serves the store, the stock and the
    writer: one statement cache, one queue of deferred writes per unit of work. A held
    connection keeps its tools from one unit of work to the next (units.py `Units.tools`,
    `Tx.fresh`): building them cost ~26 k instructions, a twentieth of an order step."""
    store = Store(connection)
    stock = StockStore(connection, store.sql)
    return Tx(connection, store, stock, Writer(store.sql, stock))
