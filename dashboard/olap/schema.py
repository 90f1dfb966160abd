"""The OLAP schema, in DDL that both RisingWave and PostgreSQL accept.

RisingWave rejects NUMERIC(p, s), ignores VARCHAR(n), has no SERIAL, and supports only
PRIMARY KEY among constraints, so the table is declared with exactly those.
"""

ORDER_COLUMNS = ("orderid", "itemid", "qty", "price", "dt", "state")

CREATE_ORDERS = """
CREATE TABLE IF NOT EXISTS orders (
    orderid BIGINT,
    itemid INT,
    qty INT,
    price NUMERIC,
    dt DATE,
    state VARCHAR,
    PRIMARY KEY (orderid, itemid)
)
""".strip()


def schema_statements(engine):
    """The statements that make an empty OLAP database ready, each safe to repeat."""
    return [CREATE_ORDERS]
