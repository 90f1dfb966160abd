-- The DDL `manage.py setup_olap` gives a new RisingWave database, in order.
-- Generated from dashboard/orders/schema.py; tests/orders/test_ddl_golden.py checks it.

CREATE TABLE IF NOT EXISTS orders (
    orderid BIGINT,
    itemid INT,
    qty INT,
    price NUMERIC,
    dt DATE,
    state VARCHAR,
    amount NUMERIC,
    PRIMARY KEY (orderid, itemid)
);

CREATE INDEX IF NOT EXISTS orders_newest_first ON orders (orderid DESC, itemid DESC);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_day AS
SELECT dt,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
    SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
    COUNT(*) AS orders
FROM (
    SELECT dt, state, orderid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt, state, orderid
) AS per_order
GROUP BY dt;

CREATE INDEX IF NOT EXISTS orders_day_range ON orders_day (dt);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_state_day AS
SELECT dt, state,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
    SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
    COUNT(*) AS orders
FROM (
    SELECT dt, state, orderid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt, state, orderid
) AS per_order
GROUP BY dt, state;

CREATE INDEX IF NOT EXISTS orders_state_day_range ON orders_state_day (dt);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_item_day AS
SELECT dt, itemid,
    COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
    SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
FROM orders
WHERE dt IS NOT NULL AND itemid IS NOT NULL
GROUP BY dt, itemid;

CREATE INDEX IF NOT EXISTS orders_item_day_range ON orders_item_day (dt);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_state_item_day AS
SELECT state, dt, itemid,
    COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
    SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
FROM orders
WHERE state IS NOT NULL AND dt IS NOT NULL AND itemid IS NOT NULL
GROUP BY state, dt, itemid;

CREATE INDEX IF NOT EXISTS orders_state_item_day_range ON orders_state_item_day (state, dt);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_state_total AS
SELECT state,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
    SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
    COUNT(*) AS orders
FROM (
    SELECT state, dt, orderid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE state IS NOT NULL
    GROUP BY state, dt, orderid
) AS per_order
GROUP BY state;

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_item_total AS
SELECT itemid,
    COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
    SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
FROM orders
WHERE itemid IS NOT NULL
GROUP BY itemid;

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_state_item_total AS
SELECT state, itemid,
    COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
    SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
FROM orders
WHERE state IS NOT NULL AND itemid IS NOT NULL
GROUP BY state, itemid;

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_state_span AS
SELECT dt, days, state,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines, SUM(orders) AS orders
FROM (
    SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
    FROM (
        SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
        FROM orders_state_day
    ) AS each_size
) AS spread
GROUP BY dt, days, state;

CREATE INDEX IF NOT EXISTS orders_state_span_range ON orders_state_span (dt, days);

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_item_span AS
SELECT dt, days, itemid,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
FROM (
    SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM (
        SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
        FROM orders_item_day
    ) AS each_size
) AS spread
GROUP BY dt, days, itemid;

CREATE INDEX IF NOT EXISTS orders_item_span_range ON orders_item_span (dt, days);
