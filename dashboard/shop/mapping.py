"""A shop's schema as data (SHOP_SCHEMA): which of its tables and columns hold the orders,
their lines, the shipping address and the products, read from a mapping file and checked.

The format (TOML; presets/oscar.toml is the preset `oscar` and a worked example):

    [order]               one row per checkout
    table = "public.order_order"   schema-qualified, or in "public"
    key = "id"            its primary key (any type: integer, UUID, ...)
    number = "id"         the dashboard's order id: an integer column (default: key)
    placed = "date_placed"          timestamptz, timestamp or date: the order's day
    status = "status"     optional: a status in [statuses] cancelled takes it out
    shipping_address = "shipping_address_id"   optional: the key of its [shipping_address]

    [line]                one row per product bought
    table, key
    order = "order_id"    the [order] key it belongs to
    item = "product_id"   the item: an integer, NULL once the product is gone
    quantity = "quantity" an integer
    amount = "line_price_excl_tax"   the line's money (turnover), exact numeric
    status = "status"     optional, as for the order

    [shipping_address]    optional; with it, [order] shipping_address is required
    table, key
    state = "state"       free text: a code or a name, any case and spacing
    country = "country_id"   optional: without it every address is in the US

    [product]             optional: item labels
    table, key
    title = "title"

    [statuses]
    cancelled = ["Cancelled"]   optional; SHOP_CANCELLED_STATUSES overrides it

`load()` refuses a file with a clear message naming the bad key. Whether the tables and
columns exist, with usable types, is checked against the shop's database when the capture
is set up (dashboard.orders.derivation).
"""

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE = "sample"
OSCAR = "oscar"
PRESETS = {OSCAR: Path(__file__).resolve().parent / "presets" / "oscar.toml"}
DEFAULT_CANCELLED = ("Cancelled",)

# Plain SQL identifiers only: they are always quoted as identifiers (psycopg2.sql) when used,
# and this keeps a mapping readable and its error messages unambiguous.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the bad key."""


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    key: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def columns(self) -> list[str]:
        """The columns the dashboard reads, the key first, each once."""
        return list(dict.fromkeys(column for column in self._read() if column))

    def _read(self) -> tuple[str | None, ...]:
        return (self.key,)


@dataclass(frozen=True)
class OrderTable(Table):
    number: str
    placed: str
    status: str | None = None
    shipping_address: str | None = None

    def _read(self) -> tuple[str | None, ...]:
        return (self.key, self.number, self.placed, self.status, self.shipping_address)


@dataclass(frozen=True)
class LineTable(Table):
    order: str
    item: str
    quantity: str
    amount: str
    status: str | None = None

    def _read(self) -> tuple[str | None, ...]:
        return (self.key, self.order, self.item, self.quantity, self.amount, self.status)


@dataclass(frozen=True)
class AddressTable(Table):
    state: str
    country: str | None = None

    def _read(self) -> tuple[str | None, ...]:
        return (self.key, self.state, self.country)


@dataclass(frozen=True)
class ProductTable(Table):
    title: str

    def _read(self) -> tuple[str | None, ...]:
        return (self.key, self.title)


@dataclass(frozen=True)
class ShopSchema:
    """A mapped shop schema: the tables and columns each role reads."""

    name: str  # "oscar", or the mapping file's path
    order: OrderTable
    line: LineTable
    shipping_address: AddressTable | None = None
    product: ProductTable | None = None
    cancelled: tuple[str, ...] = DEFAULT_CANCELLED

    @property
    def tables(self) -> list[Table]:
        """The shop's tables the capture reads, in the order they are described."""
        found: list[Table] = [self.order, self.line]
        return found + [table for table in (self.shipping_address, self.product) if table is not None]

    def with_cancelled(self, statuses: tuple[str, ...] | None) -> "ShopSchema":
        if statuses is None:
            return self
        return ShopSchema(self.name, self.order, self.line, self.shipping_address, self.product, statuses)


# --- Reading a mapping file ---------------------------------------------------------------


@dataclass
class _Section:
    """One [section] of the file being read."""

    source: str
    name: str
    values: dict[str, Any]

    def where(self, key: str) -> str:
        return f"{self.source}: [{self.name}] {key}"

    def text(self, key: str, *, required: bool = True, identifier: bool = True) -> str | None:
        if key not in self.values:
            if required:
                raise MappingError(f"{self.where(key)}: missing (the section needs it)")
            return None
        value = self.values[key]
        if not isinstance(value, str) or not value.strip():
            raise MappingError(f"{self.where(key)}: must be a non-empty string, not {value!r}")
        value = value.strip()
        if identifier and not IDENTIFIER.match(value):
            raise MappingError(
                f"{self.where(key)}: {value!r} is not a plain column name (letters, digits and _; "
                "not starting with a digit)"
            )
        return value

    def column(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def table(self) -> tuple[str, str, str]:
        """(schema, table, key column)."""
        raw = self.text("table", identifier=False)
        assert raw is not None
        parts = raw.split(".")
        if len(parts) > 2 or not all(IDENTIFIER.match(part) for part in parts):
            raise MappingError(
                f"{self.where('table')}: {raw!r} is not a table name (name or schema.name, plain identifiers)"
            )
        schema, name = parts if len(parts) == 2 else ("public", parts[0])
        return schema, name, self.column("key")

    def check_keys(self) -> None:
        """Refuse a key the section does not take, before anything is read (a misspelt
        key should be named as such, not reported as the right one missing)."""
        allowed = KEYS[self.name]
        for key in sorted(self.values):
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise MappingError(
                    f"{self.where(key)}: unknown key (this section takes: {', '.join(allowed)}){hint}"
                )


# The keys each section takes.
KEYS = {
    "order": ("table", "key", "number", "placed", "status", "shipping_address"),
    "line": ("table", "key", "order", "item", "quantity", "amount", "status"),
    "shipping_address": ("table", "key", "state", "country"),
    "product": ("table", "key", "title"),
    "statuses": ("cancelled",),
}
SECTIONS = tuple(KEYS)


def parse(text: str, source: str) -> ShopSchema:
    """The ShopSchema a mapping file's text describes; MappingError naming the bad key."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{source}: not valid TOML: {error}") from None
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise MappingError(f"{source}: [{unknown[0]}]: unknown section (known: {', '.join(SECTIONS)})")
    sections = {}
    for name in SECTIONS:
        if name in document and not isinstance(document[name], dict):
            raise MappingError(f"{source}: {name}: must be a [{name}] section")
        sections[name] = _Section(source, name, document.get(name, {}))
        sections[name].check_keys()
    for required in ("order", "line"):
        if required not in document:
            raise MappingError(f"{source}: [{required}]: missing section")

    order = sections["order"]
    schema, name, key = order.table()
    order_table = OrderTable(
        schema,
        name,
        key,
        number=order.text("number", required=False) or key,
        placed=order.column("placed"),
        status=order.text("status", required=False),
        shipping_address=order.text("shipping_address", required=False),
    )
    line = sections["line"]
    schema, name, key = line.table()
    line_table = LineTable(
        schema,
        name,
        key,
        order=line.column("order"),
        item=line.column("item"),
        quantity=line.column("quantity"),
        amount=line.column("amount"),
        status=line.text("status", required=False),
    )
    address_table = None
    if "shipping_address" in document:
        address = sections["shipping_address"]
        schema, name, key = address.table()
        address_table = AddressTable(
            schema, name, key, state=address.column("state"), country=address.text("country", required=False)
        )
        if order_table.shipping_address is None:
            raise MappingError(
                f"{order.where('shipping_address')}: missing: with a [shipping_address] section, "
                "the order must say which of its columns holds the address's key"
            )
    elif order_table.shipping_address is not None:
        raise MappingError(
            f"{order.where('shipping_address')}: there is no [shipping_address] section to point at"
        )
    product_table = None
    if "product" in document:
        product = sections["product"]
        schema, name, key = product.table()
        product_table = ProductTable(schema, name, key, title=product.column("title"))
    statuses = sections["statuses"]
    cancelled = _statuses(statuses)

    tables = [table for table in (order_table, line_table, address_table, product_table) if table]
    seen: dict[str, str] = {}
    for table in tables:
        if table.qualified in seen:
            raise MappingError(f"{source}: {table.qualified} is mapped twice ({seen[table.qualified]})")
        seen[table.qualified] = table.qualified
        reserved = _reserved(table)
        if reserved:
            raise MappingError(f"{source}: {table.qualified}: {reserved}")
    return ShopSchema(source, order_table, line_table, address_table, product_table, cancelled)


def _statuses(section: _Section) -> tuple[str, ...]:
    value = section.values.get("cancelled", list(DEFAULT_CANCELLED))
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise MappingError(f"{section.where('cancelled')}: must be a list of status names, not {value!r}")
    return tuple(item.strip() for item in value)


# The OLAP side keeps a copy of each captured table under the shop's own name (PostgreSQL's
# logical replication matches tables by schema and name), beside the dashboard's own tables.
RESERVED_SCHEMAS = ("dashboard_capture", "pg_catalog", "information_schema", "rw_catalog")
RESERVED_PREFIXES = ("orders", "cdc_", "shop_")


def _reserved(table: Table) -> str | None:
    if table.schema in RESERVED_SCHEMAS:
        return f"the schema {table.schema!r} is the dashboard's or the server's own"
    if table.schema == "public" and table.name.startswith(RESERVED_PREFIXES):
        return (
            f"a table named {table.name!r} in public would share its name with the dashboard's own "
            f"tables on the OLAP side (orders*, cdc_*, shop_*)"
        )
    return None


def load(setting: str, cancelled: tuple[str, ...] | None = None) -> ShopSchema | None:
    """The schema SHOP_SCHEMA names: None for `sample`, the preset for `oscar`, else the
    mapping file at that path. `cancelled` (SHOP_CANCELLED_STATUSES) overrides the file's."""
    if setting == SAMPLE:
        return None
    if setting in PRESETS:
        return parse(PRESETS[setting].read_text(), setting).with_cancelled(cancelled)
    path = Path(setting)
    if not path.is_file():
        raise MappingError(
            f"SHOP_SCHEMA={setting!r}: neither a preset ({', '.join([SAMPLE, *PRESETS])}) nor a "
            "mapping file that exists"
        )
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"SHOP_SCHEMA={setting!r}: cannot read it: {error}") from None
    return parse(text, str(path)).with_cancelled(cancelled)
