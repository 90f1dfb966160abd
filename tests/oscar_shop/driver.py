"""The shop driver: a long-lived process that runs the tests' django-oscar shop and places and
changes its orders through oscar's own code, on the test process's orders.

Run as ``python -m tests.oscar_shop.driver`` from the checkout with
DJANGO_SETTINGS_MODULE=tests.oscar_shop.settings and OSCAR_SHOP_DATABASE_URL set (one Python
process holds one Django settings module, so the shop cannot live in the test process). It owns
the protocol: one JSON request a line on stdin, ``{"id": ..., "command": "...", "args": {...}}``,
one JSON reply a line on stdout, ``{"id": ..., "ok": true, "result": ...}`` or
``{"id": ..., "ok": false, "error": "<traceback>"}``. It exits on EOF or on ``quit``. Each command
runs in one ``transaction.atomic()``, so it commits as one transaction, as a shop's request would
(``migrate`` excepted: some of oscar's migrations cannot run in a transaction).
tests/support/oscar_shop.py is the client; the commands are the ``cmd_*`` functions below.
"""

import io
import itertools
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

import django

Args = dict[str, Any]

# The countries the tests ship to: the US, its territories as countries of their own (a shop may
# file Puerto Rico as a country or as a US state), and two others.
# ISO 3166-1 alpha-2 -> (alpha-3, numeric, printable name).
COUNTRIES = {
    "US": ("USA", "840", "United States"),
    "GB": ("GBR", "826", "United Kingdom"),
    "CA": ("CAN", "124", "Canada"),
    "PR": ("PRI", "630", "Puerto Rico"),
    "GU": ("GUM", "316", "Guam"),
    "VI": ("VIR", "850", "Virgin Islands, U.S."),
    "AS": ("ASM", "016", "American Samoa"),
    "MP": ("MNP", "580", "Northern Mariana Islands"),
}
PARTNER_NAME = "Test partner"
PRODUCT_CLASS_NAME = "Goods"
CURRENCY = "USD"
# Plenty: a stock record never runs out in a test (PositiveIntegerField tops out at 2**31 - 1).
STOCK = 1_000_000_000
# The product option that tells two basket lines of one product apart (separate_lines).
LINE_OPTION_CODE = "line-note"
BULK_BATCH = 2_000


def _oscar() -> Any:
    """Oscar's models and classes, loaded (after django.setup()) the way oscar's own code does."""
    from oscar.core.loading import get_class, get_model

    class Oscar:
        Basket = get_model("basket", "Basket")
        Country = get_model("address", "Country")
        Line = get_model("order", "Line")
        Option = get_model("catalogue", "Option")
        Order = get_model("order", "Order")
        Partner = get_model("partner", "Partner")
        Product = get_model("catalogue", "Product")
        ProductClass = get_model("catalogue", "ProductClass")
        ShippingAddress = get_model("order", "ShippingAddress")
        StockRecord = get_model("partner", "StockRecord")
        OrderCreator = get_class("order.utils", "OrderCreator")
        OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
        OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
        Selector = get_class("partner.strategy", "Selector")
        Free = get_class("shipping.methods", "Free")
        Applicator = get_class("offer.applicator", "Applicator")

    return Oscar


# --- commands ----------------------------------------------------------------------------------


def cmd_ping(o: Any, args: Args) -> str:
    return "pong"


def cmd_migrate(o: Any, args: Args) -> dict[str, Any]:
    """Oscar's migrations, then what placing orders needs: countries, a partner, a product class and
    the line option. Idempotent. The one command not wrapped in a transaction by the loop: some of
    oscar's migrations are non-atomic (CREATE INDEX CONCURRENTLY); the rest is one transaction."""
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        for order, (code, (a3, numeric, name)) in enumerate(COUNTRIES.items()):
            o.Country.objects.update_or_create(
                iso_3166_1_a2=code,
                defaults={
                    "iso_3166_1_a3": a3,
                    "iso_3166_1_numeric": numeric,
                    "printable_name": name,
                    "name": name,
                    "display_order": len(COUNTRIES) - order,
                    "is_shipping_country": True,
                },
            )
        partner, _ = o.Partner.objects.get_or_create(name=PARTNER_NAME)
        product_class, _ = o.ProductClass.objects.get_or_create(
            name=PRODUCT_CLASS_NAME, defaults={"requires_shipping": True, "track_stock": True}
        )
        o.Option.objects.get_or_create(code=LINE_OPTION_CODE, defaults={"name": "Line note", "type": "text"})
    return {"partner_id": partner.id, "product_class_id": product_class.id}


NOT_ATOMIC = {cmd_migrate}


def cmd_create_products(o: Any, args: Args) -> list[int]:
    """Standalone products, each with a stock record of the partner at ``price`` (plenty in stock)."""
    partner = o.Partner.objects.get(name=PARTNER_NAME)
    product_class = o.ProductClass.objects.get(name=PRODUCT_CLASS_NAME)
    price = Decimal(str(args.get("price", "9.99")))
    ids = []
    for title in args["titles"]:
        product = o.Product(product_class=product_class, title=title, structure="standalone")
        product.save()
        o.StockRecord.objects.create(
            product=product,
            partner=partner,
            partner_sku=f"SKU-{product.id}",
            price_currency=CURRENCY,
            price=price,
            num_in_stock=STOCK,
        )
        ids.append(product.id)
    return ids


def _shipping_address(o: Any, address: Args | None) -> Any:
    """An unsaved ShippingAddress from the request's address (None: the order ships nowhere)."""
    if address is None:
        return None
    return o.ShippingAddress(
        first_name=address.get("first_name", "Test"),
        last_name=address.get("last_name", "Customer"),
        line1=address.get("line1", "1 Main Street"),
        line4=address.get("city", "Springfield"),
        state=address.get("state", ""),
        postcode=address.get("postcode", ""),
        country=o.Country.objects.get(iso_3166_1_a2=address.get("country", "US")),
    )


def _order_creator(o: Any) -> Any:
    """Oscar's OrderCreator, but a line starts in the status the order's initial status cascades to
    (oscar gives every line OSCAR_INITIAL_LINE_STATUS, whatever the order's status is)."""
    from django.conf import settings

    class ShopOrderCreator(o.OrderCreator):
        def create_line_models(
            self, order: Any, basket_line: Any, extra_line_fields: Args | None = None
        ) -> Any:
            cascaded = settings.OSCAR_ORDER_STATUS_CASCADE.get(order.status)
            if cascaded is not None:
                extra_line_fields = {"status": cascaded, **(extra_line_fields or {})}
            return super().create_line_models(order, basket_line, extra_line_fields)

    return ShopOrderCreator()


def cmd_place_order(o: Any, args: Args) -> dict[str, Any]:
    """An order placed as oscar's checkout (OrderPlacementMixin) places one: a basket with the
    default strategy, a saved shipping address, free shipping, OrderTotalCalculator, an order
    number from OrderNumberGenerator, OrderCreator.place_order, then the basket submitted.

    ``lines``: [[product_id, quantity], ...]; a product listed twice merges into one basket line,
    as in oscar, unless ``separate_lines`` is true: then each repeat is added with a different
    value of the "line note" option, which oscar keeps as a basket line (and an order line) of its
    own. ``status`` and ``date_placed`` (ISO) are optional."""
    basket = o.Basket.objects.create()
    basket.strategy = o.Selector().strategy()
    option = o.Option.objects.get(code=LINE_OPTION_CODE)
    seen: dict[int, int] = {}
    for product_id, quantity in args["lines"]:
        product = o.Product.objects.get(pk=product_id)
        repeat = seen.get(product_id, 0)
        seen[product_id] = repeat + 1
        options = None
        if args.get("separate_lines") and repeat:
            options = [{"option": option, "value": f"entry {repeat + 1}"}]
        basket.add_product(product, int(quantity), options)
    o.Applicator().apply(basket)  # what oscar's BasketMiddleware does on each request: offers (none here)

    shipping_address = _shipping_address(o, args.get("address"))
    if shipping_address is not None:
        shipping_address.save()
    method = o.Free()
    shipping_charge = method.calculate(basket)
    total = o.OrderTotalCalculator().calculate(basket, shipping_charge)
    extra: Args = {}
    if args.get("date_placed"):
        extra["date_placed"] = datetime.fromisoformat(args["date_placed"])
    order = _order_creator(o).place_order(
        basket=basket,
        total=total,
        shipping_method=method,
        shipping_charge=shipping_charge,
        user=None,
        shipping_address=shipping_address,
        order_number=o.OrderNumberGenerator().order_number(basket),
        status=args.get("status"),
        **extra,
    )
    basket.submit()
    return {
        "order_id": order.id,
        "number": str(order.number),
        "line_ids": list(order.lines.order_by("id").values_list("id", flat=True)),
    }


def cmd_set_status(o: Any, args: Args) -> dict[str, Any]:
    """Order.set_status: validated against the pipeline; cascades to the lines it may move."""
    order = o.Order.objects.get(pk=args["order_id"])
    order.set_status(args["status"])
    return {
        "status": order.status,
        "line_statuses": list(order.lines.order_by("id").values_list("status", flat=True)),
    }


def cmd_set_line_status(o: Any, args: Args) -> str:
    line = o.Line.objects.get(pk=args["line_id"])
    line.set_status(args["status"])
    return line.status


def cmd_set_line_quantity(o: Any, args: Args) -> dict[str, str | None]:
    """An admin's edit of a line's quantity: the line prices follow from its unit prices. Only
    order_line changes (the order's totals are left as they were)."""
    line = o.Line.objects.get(pk=args["line_id"])
    quantity = int(args["quantity"])
    line.quantity = quantity
    line.line_price_excl_tax = line.line_price_before_discounts_excl_tax = line.unit_price_excl_tax * quantity
    if line.unit_price_incl_tax is not None:
        line.line_price_incl_tax = line.line_price_before_discounts_incl_tax = (
            line.unit_price_incl_tax * quantity
        )
    line.save()
    return {
        "line_price_excl_tax": str(line.line_price_excl_tax),
        "line_price_incl_tax": _json_scalar(line.line_price_incl_tax),
    }


def cmd_edit_address(o: Any, args: Args) -> int:
    """Edits the order's shipping address in place: only order_shippingaddress changes."""
    order = o.Order.objects.select_related("shipping_address").get(pk=args["order_id"])
    address = order.shipping_address
    if address is None:
        raise ValueError(f"order {order.id} has no shipping address")
    if "state" in args:
        address.state = args["state"]
    if "country" in args:
        address.country = o.Country.objects.get(iso_3166_1_a2=args["country"])
    address.save()
    return address.id


def cmd_rename_product(o: Any, args: Args) -> None:
    product = o.Product.objects.get(pk=args["product_id"])
    product.title = args["title"]
    product.save()


def cmd_delete_product(o: Any, args: Args) -> None:
    """Deletes a product: its stock records go with it; order lines keep their row with product_id
    NULL (on_delete=SET_NULL)."""
    o.Product.objects.get(pk=args["product_id"]).delete()


def cmd_delete_order(o: Any, args: Args) -> None:
    """Deletes an order as the admin would (its lines, line prices, status changes go with it; the
    shipping address row stays, as oscar leaves it)."""
    o.Order.objects.get(pk=args["order_id"]).delete()


class _Import:
    """What a bulk import writes, worked out once: ``n`` orders of ``k`` lines each; line j of order
    i is product ``first_product + (i * k + j) % m`` with quantity ``quantity`` if given, else 1, 2,
    3, 1, ... by that same index, at the product's stock record price."""

    def __init__(self, o: Any, args: Args) -> None:
        from django.conf import settings
        from django.contrib.sites.models import Site
        from django.utils import timezone

        self.n, self.k, self.m = int(args["orders"]), int(args["lines_per_order"]), int(args["products"])
        first_product = int(args["first_product"])
        product_ids = list(range(first_product, first_product + self.m))
        records = {
            sr.product_id: sr
            for sr in o.StockRecord.objects.select_related("product", "partner").filter(
                product_id__in=product_ids
            )
        }
        missing = sorted(set(product_ids) - set(records))
        if missing:
            raise ValueError(f"no product with a stock record: {missing[:10]}")
        self.stock = [records[pid] for pid in product_ids]
        self.fixed_quantity = None if args.get("quantity") is None else int(args["quantity"])
        self.placed = (
            datetime.fromisoformat(args["date_placed"]) if args.get("date_placed") else timezone.now()
        )
        self.status = settings.OSCAR_INITIAL_ORDER_STATUS
        self.line_status = settings.OSCAR_ORDER_STATUS_CASCADE.get(
            self.status, settings.OSCAR_INITIAL_LINE_STATUS
        )
        self.site = Site.objects.get_current()
        self.address = o.ShippingAddress(
            first_name="Import",
            last_name="Customer",
            line1="1 Import Street",
            line4="Springfield",
            state=args.get("state", ""),
            country=o.Country.objects.get(iso_3166_1_a2=args.get("country", "US")),
        )
        self.address._update_search_text()  # what ShippingAddress.save() does

    def quantity(self, index: int) -> int:
        return self.fixed_quantity if self.fixed_quantity is not None else 1 + index % 3

    def record(self, index: int) -> Any:
        return self.stock[index % self.m]

    def total(self, i: int) -> Decimal:
        indexes = range(i * self.k, (i + 1) * self.k)
        return sum((self.record(x).price * self.quantity(x) for x in indexes), Decimal("0.00"))

    def order_fields(self, o: Any) -> Args:
        """An order's fields but its number, totals and address."""
        return {
            "site_id": self.site.id,
            "currency": CURRENCY,
            "shipping_incl_tax": Decimal("0.00"),
            "shipping_excl_tax": Decimal("0.00"),
            "shipping_method": str(o.Free.name),
            "shipping_code": o.Free.code,
            "status": self.status,
            "date_placed": self.placed,
        }

    def line_fields(self, index: int) -> Args:
        """A line's fields but its order."""
        record, quantity = self.record(index), self.quantity(index)
        price = record.price * quantity
        return {
            "partner_id": record.partner_id,
            "partner_name": record.partner.name,
            "partner_sku": record.partner_sku,
            "stockrecord_id": record.id,
            "product_id": record.product_id,
            "title": record.product.title,
            "upc": record.product.upc,
            "quantity": quantity,
            "line_price_incl_tax": price,
            "line_price_excl_tax": price,
            "line_price_before_discounts_incl_tax": price,
            "line_price_before_discounts_excl_tax": price,
            "unit_price_incl_tax": record.price,
            "unit_price_excl_tax": record.price,
            "num_allocated": quantity,
            "status": self.line_status,
        }


def _import_by_bulk_create(o: Any, plan: _Import) -> list[int]:
    """The ORM way: bulk_create of addresses, orders (ids come back), then lines in batches."""
    addresses = [
        o.ShippingAddress(
            **{
                f.attname: getattr(plan.address, f.attname)
                for f in o.ShippingAddress._meta.concrete_fields
                if not f.primary_key
            }
        )
        for _ in range(plan.n)
    ]
    o.ShippingAddress.objects.bulk_create(addresses, batch_size=BULK_BATCH)
    prefix = f"IMP{addresses[0].id}" if addresses else "IMP"
    common = plan.order_fields(o)
    orders = []
    for i, address in enumerate(addresses):
        total = plan.total(i)
        orders.append(
            o.Order(
                number=f"{prefix}-{i}",
                total_incl_tax=total,
                total_excl_tax=total,
                shipping_address_id=address.id,
                **common,
            )
        )
    o.Order.objects.bulk_create(orders, batch_size=BULK_BATCH)
    batch: list[Any] = []
    for i, order in enumerate(orders):
        for j in range(plan.k):
            batch.append(o.Line(order_id=order.id, **plan.line_fields(i * plan.k + j)))
            if len(batch) == BULK_BATCH:
                o.Line.objects.bulk_create(batch)
                batch = []
    if batch:
        o.Line.objects.bulk_create(batch)
    return [order.id for order in orders]


def _copy_text(value: Any) -> str:
    """A value as PostgreSQL's COPY text format spells it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_layout(model: Any, varying: list[str], fixed: Args) -> tuple[list[str], str]:
    """COPY's column list, the ``varying`` attnames first, and the text of all the other columns:
    their value in ``fixed``, else the field's default (as the ORM would have written it); the
    primary key, unless it varies, is left to the table's sequence. The column list depends only
    on ``varying``."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    rest = [f for f in fields.values() if f.attname not in varying and not f.primary_key]
    tail = "\t".join(_copy_text(fixed[f.attname] if f.attname in fixed else f.get_default()) for f in rest)
    return [fields[name].column for name in varying] + [f.column for f in rest], tail


def _copy(cursor: Any, model: Any, columns: list[str], rows: Iterator[str]) -> None:
    from django.db import connection

    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    while chunk := "".join(itertools.islice(rows, 50_000)):
        cursor.copy_expert(sql, io.StringIO(chunk))


def _import_by_copy(o: Any, plan: _Import) -> list[int]:
    """The fast way a shop's import script may take: ids drawn from the tables' sequences, then
    COPY ... FROM STDIN of addresses, orders and lines (PostgreSQL's bulk load, still one row
    per line in the WAL), in the same transaction."""
    from django.db import connection

    def reserve(cursor: Any, model: Any, count: int) -> list[int]:
        table = model._meta.db_table
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]

    address_fields = {
        f.attname: getattr(plan.address, f.attname)
        for f in o.ShippingAddress._meta.concrete_fields
        if not f.primary_key
    }
    with connection.cursor() as cursor:
        address_ids = reserve(cursor, o.ShippingAddress, plan.n)
        order_ids = reserve(cursor, o.Order, plan.n)
        columns, tail = _copy_layout(o.ShippingAddress, ["id"], address_fields)
        _copy(cursor, o.ShippingAddress, columns, (f"{a}\t{tail}\n" for a in address_ids))

        prefix = f"IMP{address_ids[0]}" if address_ids else "IMP"
        varying = ["id", "number", "total_incl_tax", "total_excl_tax", "shipping_address_id"]
        columns, tail = _copy_layout(o.Order, varying, plan.order_fields(o))
        _copy(
            cursor,
            o.Order,
            columns,
            (
                f"{order_id}\t{prefix}-{i}\t{total}\t{total}\t{address_id}\t{tail}\n"
                for i, (order_id, address_id) in enumerate(zip(order_ids, address_ids, strict=True))
                for total in [plan.total(i)]
            ),
        )

        # A line's text but its order id depends only on its product and quantity.
        columns = _copy_layout(o.Line, ["order_id"], {})[0]
        tails: dict[tuple[int, int], str] = {}

        def line_tail(index: int) -> str:
            key = (index % plan.m, plan.quantity(index))
            if key not in tails:
                tails[key] = _copy_layout(o.Line, ["order_id"], plan.line_fields(index))[1]
            return tails[key]

        _copy(
            cursor,
            o.Line,
            columns,
            (
                f"{order_id}\t{line_tail(i * plan.k + j)}\n"
                for i, order_id in enumerate(order_ids)
                for j in range(plan.k)
            ),
        )
    return order_ids


def cmd_bulk_import(o: Any, args: Args) -> dict[str, Any]:
    """A data import as a shop would run one: ``orders`` orders of ``lines_per_order`` lines each
    (products ``first_product`` .. ``first_product + products - 1`` in turn, see _Import), each
    order with a shipping address of its own (``state``, ``country``), all dated ``date_placed``
    (ISO; default now), all in this one transaction. ``method``: "bulk_create" (the default; the
    ORM's multi-row INSERTs) or "copy" (COPY FROM STDIN, several times faster). Order numbers are
    "IMP<first address id>-<i>", unique."""
    plan = _Import(o, args)
    method = args.get("method", "bulk_create")
    writers = {"bulk_create": _import_by_bulk_create, "copy": _import_by_copy}
    if method not in writers:
        raise ValueError(f"unknown method {method!r}; known: {sorted(writers)}")
    order_ids = writers[method](o, plan)
    return {
        "orders": plan.n,
        "lines": plan.n * plan.k,
        "first_order_id": order_ids[0] if order_ids else None,
        "last_order_id": order_ids[-1] if order_ids else None,
    }


def cmd_sql(o: Any, args: Args) -> list[list[Any]]:
    """A read-only query on the shop's database: rows as lists, Decimals as strings, dates and
    times in ISO format."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(args["query"], args.get("params") or None)
        return [[_json_scalar(value) for value in row] for row in cursor.fetchall()]


COMMANDS: dict[str, Callable[[Any, Args], Any]] = {
    name.removeprefix("cmd_"): function for name, function in globals().items() if name.startswith("cmd_")
}


# --- the loop ----------------------------------------------------------------------------------


def _json_scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def _protocol_stdout() -> IO[str]:
    """The replies' channel: the original stdout, kept for the protocol alone. File descriptor 1
    and sys.stdout then point at stderr, so nothing oscar, Django or a C library prints can end
    up in the middle of a reply."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return replies


def handle(o: Any, request: Args) -> Args:
    from django.db import close_old_connections, connection, transaction

    command = request.get("command")
    reply: Args = {"id": request.get("id")}
    try:
        function = COMMANDS.get(str(command))
        if function is None:
            raise ValueError(f"unknown command {command!r}; known: {sorted(COMMANDS)}")
        close_old_connections()  # a connection broken since the last command is replaced
        if function in NOT_ATOMIC:
            result = function(o, request.get("args") or {})
        else:
            with transaction.atomic():
                result = function(o, request.get("args") or {})
        reply.update(ok=True, result=result)
    except Exception:
        connection.close_if_unusable_or_obsolete()
        reply.update(ok=False, error=traceback.format_exc())
    return reply


def main() -> int:
    # Ctrl-C belongs to the test process, which then closes the driver (quit, or EOF on stdin).
    # The driver ignores SIGINT itself, whether or not its parent already did.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = _protocol_stdout()
    django.setup()
    o = _oscar()
    for raw in sys.stdin:
        if not raw.strip():
            continue
        quitting = False
        try:
            request = json.loads(raw)
            if not isinstance(request, dict):
                raise ValueError("a request is a JSON object")
        except ValueError:
            reply: Args = {"id": None, "ok": False, "error": traceback.format_exc()}
        else:
            quitting = request.get("command") == "quit"
            reply = {"id": request.get("id"), "ok": True, "result": None} if quitting else handle(o, request)
        try:
            replies.write(json.dumps(reply, default=_json_scalar) + "\n")
            replies.flush()
        except BrokenPipeError:
            return 0  # the test process is gone
        if quitting:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
