-- The DDL `manage.py setup_olap` gives a new PostgreSQL database, in order.
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

ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount NUMERIC;

CREATE SEQUENCE IF NOT EXISTS orders_rollups_version;

CREATE TABLE IF NOT EXISTS orders_changes (
    orderid BIGINT NOT NULL,
    itemid INT NOT NULL,
    qty INT,
    price NUMERIC,
    dt DATE,
    state VARCHAR,
    sign SMALLINT NOT NULL
);

ALTER TABLE orders_changes ADD COLUMN IF NOT EXISTS born XID8;

CREATE TABLE IF NOT EXISTS cdc_heartbeat (
    id INT PRIMARY KEY,
    beat TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS cdc_progress (
    id INT PRIMARY KEY,
    source_time TIMESTAMPTZ,
    folded_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE cdc_progress ADD COLUMN IF NOT EXISTS folded_snapshot PG_SNAPSHOT;

CREATE TABLE IF NOT EXISTS orders_day (
    dt DATE NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (dt)
);

CREATE TABLE IF NOT EXISTS orders_state_day (
    dt DATE NOT NULL,
    state VARCHAR NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (dt, state)
);

CREATE TABLE IF NOT EXISTS orders_item_day (
    dt DATE NOT NULL,
    itemid INT NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    PRIMARY KEY (dt, itemid)
);

CREATE TABLE IF NOT EXISTS orders_state_item_day (
    state VARCHAR NOT NULL,
    dt DATE NOT NULL,
    itemid INT NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS orders_state_item_day_range ON orders_state_item_day USING brin (state, dt);

CREATE TABLE IF NOT EXISTS orders_state_total (
    state VARCHAR NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (state)
);

CREATE TABLE IF NOT EXISTS orders_item_total (
    itemid INT NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    PRIMARY KEY (itemid)
);

CREATE INDEX IF NOT EXISTS orders_item_total_by_turnover ON orders_item_total (turnover DESC, itemid) WHERE itemid IS NOT NULL AND turnover_lines <> 0;

CREATE INDEX IF NOT EXISTS orders_item_total_by_avg_qty ON orders_item_total (((qty_sum::numeric / NULLIF(qty_lines, 0))::float8) DESC, itemid) WHERE itemid IS NOT NULL AND qty_lines <> 0;

CREATE INDEX IF NOT EXISTS orders_item_total_by_total_qty ON orders_item_total (qty_sum DESC, itemid) WHERE itemid IS NOT NULL AND qty_lines <> 0;

CREATE TABLE IF NOT EXISTS orders_state_item_total (
    state VARCHAR NOT NULL,
    itemid INT NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    PRIMARY KEY (state, itemid)
);

CREATE TABLE IF NOT EXISTS orders_state_span (
    dt DATE NOT NULL,
    days INT NOT NULL,
    state VARCHAR NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (dt, days, state)
);

CREATE TABLE IF NOT EXISTS orders_item_span (
    dt DATE NOT NULL,
    days INT NOT NULL,
    itemid INT NOT NULL,
    lines BIGINT NOT NULL,
    qty_sum BIGINT NOT NULL,
    qty_lines BIGINT NOT NULL,
    turnover NUMERIC NOT NULL,
    turnover_lines BIGINT NOT NULL,
    PRIMARY KEY (dt, days, itemid)
);

INSERT INTO orders_day (dt, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
SELECT dt, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines, orders
FROM (
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
    GROUP BY dt
) AS fresh
ORDER BY dt;

INSERT INTO orders_state_day (dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
SELECT dt, state, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines, orders
FROM (
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
    GROUP BY dt, state
) AS fresh
ORDER BY dt, state;

INSERT INTO orders_item_day (dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT dt, itemid, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines
FROM (
    SELECT dt, itemid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE dt IS NOT NULL AND itemid IS NOT NULL
    GROUP BY dt, itemid
) AS fresh
ORDER BY dt, itemid;

INSERT INTO orders_state_item_day (state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT state, dt, itemid, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines
FROM (
    SELECT state, dt, itemid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE state IS NOT NULL AND dt IS NOT NULL AND itemid IS NOT NULL
    GROUP BY state, dt, itemid
) AS fresh
ORDER BY state, dt, itemid;

INSERT INTO orders_state_total (state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
SELECT state, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines, orders
FROM (
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
    GROUP BY state
) AS fresh
ORDER BY state;

INSERT INTO orders_item_total (itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT itemid, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines
FROM (
    SELECT itemid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE itemid IS NOT NULL
    GROUP BY itemid
) AS fresh
ORDER BY itemid;

INSERT INTO orders_state_item_total (state, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT state, itemid, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines
FROM (
    SELECT state, itemid,
        COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,
        SUM(COALESCE(amount, qty * price)) AS turnover, COUNT(COALESCE(amount, qty * price)) AS turnover_lines
    FROM orders
    WHERE state IS NOT NULL AND itemid IS NOT NULL
    GROUP BY state, itemid
) AS fresh
ORDER BY state, itemid;

INSERT INTO orders_state_span (dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
SELECT dt, days, state, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines, orders
FROM (
    SELECT dt, days, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines, SUM(orders) AS orders
    FROM (
        SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
        FROM (
            SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
            FROM orders_state_day
        ) AS each_size
    ) AS spread
    GROUP BY dt, days, state
) AS fresh
ORDER BY dt, days, state;

INSERT INTO orders_item_span (dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT dt, days, itemid, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines
FROM (
    SELECT dt, days, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM (
        SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
        FROM (
            SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
            FROM orders_item_day
        ) AS each_size
    ) AS spread
    GROUP BY dt, days, itemid
) AS fresh
ORDER BY dt, days, itemid;

CREATE OR REPLACE FUNCTION orders_rollups_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET work_mem = '64MB' AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
IF current_setting('dashboard.loader_writes_rollups', true) = 'on' THEN RETURN NULL; END IF;
WITH delta AS (
    SELECT orderid, state, itemid, dt, 1 AS sign, qty, COALESCE(amount, qty * price) AS turnover FROM new_rows
),
fine AS (
    SELECT state, itemid, dt,
        SUM(sign) AS lines,
        COALESCE(SUM(qty), 0) AS qty_sum,
        SUM(CASE WHEN qty IS NOT NULL THEN sign ELSE 0 END) AS qty_lines,
        COALESCE(SUM(turnover), 0) AS turnover,
        SUM(CASE WHEN turnover IS NOT NULL THEN sign ELSE 0 END) AS turnover_lines
    FROM delta
    GROUP BY state, itemid, dt
),
order_days AS (
    SELECT orderid, state, dt, SUM(sign) AS change
    FROM delta
    WHERE state IS NOT NULL
    GROUP BY orderid, state, dt
),
now_in AS (
    SELECT o.orderid, o.state, o.dt, COUNT(*) AS lines
    FROM orders AS o
    WHERE o.state IS NOT NULL AND o.orderid IN (SELECT orderid FROM order_days)
    GROUP BY o.orderid, o.state, o.dt
),
-- Each (order, state, day) touched, with its change and its lines now, side by side: a
-- GROUP BY (which matches a NULL day to a NULL day) rather than a join, so a fold of a
-- million changes costs two hash aggregations, whatever the planner guesses.
order_day_lines AS (
    SELECT state, dt, SUM(change) AS change, SUM(lines) AS lines
    FROM (
        SELECT orderid, state, dt, change, 0 AS lines FROM order_days
        UNION ALL
        SELECT orderid, state, dt, 0, lines FROM now_in
    ) AS both_sides
    GROUP BY orderid, state, dt
),
order_counts AS (
    SELECT state, dt, SUM((lines > 0)::int - (lines - change > 0)::int) AS orders
    FROM order_day_lines
    GROUP BY state, dt
),
-- The (state, day) sums and their order counts side by side in a GROUP BY, not a join:
-- a join matches NULL days only through IS NOT DISTINCT FROM, which no hash or merge
-- key takes (a fold of a million changes compared 6.6M pairs, 0.7 s).
state_days AS (
    SELECT state, dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM (
        SELECT state, dt, lines, qty_sum, qty_lines, turnover, turnover_lines, 0 AS orders
        FROM fine
        WHERE state IS NOT NULL
        UNION ALL
        SELECT state, dt, 0, 0, 0, 0, 0, orders
        FROM order_counts
    ) AS both_sides
    GROUP BY state, dt
),
orders_state_day_delta AS (
    SELECT dt, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt, state
),
orders_item_day_delta AS (
    SELECT dt, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE dt IS NOT NULL AND itemid IS NOT NULL
    GROUP BY dt, itemid
),
w0 AS (
    INSERT INTO orders_state_item_day (state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND dt IS NOT NULL AND itemid IS NOT NULL
    ORDER BY state, dt, itemid
),
w1 AS (
    INSERT INTO orders_day AS r (dt, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt
    ORDER BY dt
    ON CONFLICT (dt) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w2 AS (
    INSERT INTO orders_state_day AS r (dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
    FROM orders_state_day_delta
    ORDER BY dt, state
    ON CONFLICT (dt, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w3 AS (
    INSERT INTO orders_item_day AS r (dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM orders_item_day_delta
    ORDER BY dt, itemid
    ON CONFLICT (dt, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w4 AS (
    INSERT INTO orders_state_total AS r (state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE state IS NOT NULL
    GROUP BY state
    ORDER BY state
    ON CONFLICT (state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w5 AS (
    INSERT INTO orders_item_total AS r (itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE itemid IS NOT NULL
    GROUP BY itemid
    ORDER BY itemid
    ON CONFLICT (itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w6 AS (
    INSERT INTO orders_state_item_total AS r (state, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND itemid IS NOT NULL
    GROUP BY state, itemid
    ORDER BY state, itemid
    ON CONFLICT (state, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w7 AS (
    INSERT INTO orders_state_span AS r (dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, days, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines, SUM(orders) AS orders
    FROM (
        SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
        FROM (
            SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
            FROM orders_state_day_delta
        ) AS each_size
    ) AS spread
    GROUP BY dt, days, state
    ORDER BY dt, days, state
    ON CONFLICT (dt, days, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
)
INSERT INTO orders_item_span AS r (dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT dt, days, itemid,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
FROM (
    SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM (
        SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
        FROM orders_item_day_delta
    ) AS each_size
) AS spread
GROUP BY dt, days, itemid
ORDER BY dt, days, itemid
ON CONFLICT (dt, days, itemid) DO UPDATE SET
    lines = r.lines + EXCLUDED.lines,
    qty_sum = r.qty_sum + EXCLUDED.qty_sum,
    qty_lines = r.qty_lines + EXCLUDED.qty_lines,
    turnover = r.turnover + EXCLUDED.turnover,
    turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_rollups_insert AFTER INSERT ON orders
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_insert();

CREATE OR REPLACE FUNCTION orders_rollups_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET work_mem = '64MB' AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
IF current_setting('dashboard.loader_writes_rollups', true) = 'on' THEN RETURN NULL; END IF;
WITH delta AS (
    SELECT orderid, state, itemid, dt, -1 AS sign, -qty AS qty, -COALESCE(amount, qty * price) AS turnover FROM old_rows
),
fine AS (
    SELECT state, itemid, dt,
        SUM(sign) AS lines,
        COALESCE(SUM(qty), 0) AS qty_sum,
        SUM(CASE WHEN qty IS NOT NULL THEN sign ELSE 0 END) AS qty_lines,
        COALESCE(SUM(turnover), 0) AS turnover,
        SUM(CASE WHEN turnover IS NOT NULL THEN sign ELSE 0 END) AS turnover_lines
    FROM delta
    GROUP BY state, itemid, dt
),
order_days AS (
    SELECT orderid, state, dt, SUM(sign) AS change
    FROM delta
    WHERE state IS NOT NULL
    GROUP BY orderid, state, dt
),
now_in AS (
    SELECT o.orderid, o.state, o.dt, COUNT(*) AS lines
    FROM orders AS o
    WHERE o.state IS NOT NULL AND o.orderid IN (SELECT orderid FROM order_days)
    GROUP BY o.orderid, o.state, o.dt
),
-- Each (order, state, day) touched, with its change and its lines now, side by side: a
-- GROUP BY (which matches a NULL day to a NULL day) rather than a join, so a fold of a
-- million changes costs two hash aggregations, whatever the planner guesses.
order_day_lines AS (
    SELECT state, dt, SUM(change) AS change, SUM(lines) AS lines
    FROM (
        SELECT orderid, state, dt, change, 0 AS lines FROM order_days
        UNION ALL
        SELECT orderid, state, dt, 0, lines FROM now_in
    ) AS both_sides
    GROUP BY orderid, state, dt
),
order_counts AS (
    SELECT state, dt, SUM((lines > 0)::int - (lines - change > 0)::int) AS orders
    FROM order_day_lines
    GROUP BY state, dt
),
-- The (state, day) sums and their order counts side by side in a GROUP BY, not a join:
-- a join matches NULL days only through IS NOT DISTINCT FROM, which no hash or merge
-- key takes (a fold of a million changes compared 6.6M pairs, 0.7 s).
state_days AS (
    SELECT state, dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM (
        SELECT state, dt, lines, qty_sum, qty_lines, turnover, turnover_lines, 0 AS orders
        FROM fine
        WHERE state IS NOT NULL
        UNION ALL
        SELECT state, dt, 0, 0, 0, 0, 0, orders
        FROM order_counts
    ) AS both_sides
    GROUP BY state, dt
),
orders_state_day_delta AS (
    SELECT dt, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt, state
),
orders_item_day_delta AS (
    SELECT dt, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE dt IS NOT NULL AND itemid IS NOT NULL
    GROUP BY dt, itemid
),
w0 AS (
    INSERT INTO orders_state_item_day (state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND dt IS NOT NULL AND itemid IS NOT NULL
    ORDER BY state, dt, itemid
),
w1 AS (
    INSERT INTO orders_day AS r (dt, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt
    ORDER BY dt
    ON CONFLICT (dt) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w2 AS (
    INSERT INTO orders_state_day AS r (dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
    FROM orders_state_day_delta
    ORDER BY dt, state
    ON CONFLICT (dt, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w3 AS (
    INSERT INTO orders_item_day AS r (dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM orders_item_day_delta
    ORDER BY dt, itemid
    ON CONFLICT (dt, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w4 AS (
    INSERT INTO orders_state_total AS r (state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE state IS NOT NULL
    GROUP BY state
    ORDER BY state
    ON CONFLICT (state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w5 AS (
    INSERT INTO orders_item_total AS r (itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE itemid IS NOT NULL
    GROUP BY itemid
    ORDER BY itemid
    ON CONFLICT (itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w6 AS (
    INSERT INTO orders_state_item_total AS r (state, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND itemid IS NOT NULL
    GROUP BY state, itemid
    ORDER BY state, itemid
    ON CONFLICT (state, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w7 AS (
    INSERT INTO orders_state_span AS r (dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, days, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines, SUM(orders) AS orders
    FROM (
        SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
        FROM (
            SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
            FROM orders_state_day_delta
        ) AS each_size
    ) AS spread
    GROUP BY dt, days, state
    ORDER BY dt, days, state
    ON CONFLICT (dt, days, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
)
INSERT INTO orders_item_span AS r (dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT dt, days, itemid,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
FROM (
    SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM (
        SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
        FROM orders_item_day_delta
    ) AS each_size
) AS spread
GROUP BY dt, days, itemid
ORDER BY dt, days, itemid
ON CONFLICT (dt, days, itemid) DO UPDATE SET
    lines = r.lines + EXCLUDED.lines,
    qty_sum = r.qty_sum + EXCLUDED.qty_sum,
    qty_lines = r.qty_lines + EXCLUDED.qty_lines,
    turnover = r.turnover + EXCLUDED.turnover,
    turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_rollups_delete AFTER DELETE ON orders
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_delete();

CREATE OR REPLACE FUNCTION orders_rollups_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET work_mem = '64MB' AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
IF current_setting('dashboard.loader_writes_rollups', true) = 'on' THEN RETURN NULL; END IF;
WITH delta AS (
    SELECT orderid, state, itemid, dt, 1 AS sign, qty, COALESCE(amount, qty * price) AS turnover FROM new_rows
    UNION ALL
    SELECT orderid, state, itemid, dt, -1 AS sign, -qty AS qty, -COALESCE(amount, qty * price) AS turnover FROM old_rows
),
fine AS (
    SELECT state, itemid, dt,
        SUM(sign) AS lines,
        COALESCE(SUM(qty), 0) AS qty_sum,
        SUM(CASE WHEN qty IS NOT NULL THEN sign ELSE 0 END) AS qty_lines,
        COALESCE(SUM(turnover), 0) AS turnover,
        SUM(CASE WHEN turnover IS NOT NULL THEN sign ELSE 0 END) AS turnover_lines
    FROM delta
    GROUP BY state, itemid, dt
),
order_days AS (
    SELECT orderid, state, dt, SUM(sign) AS change
    FROM delta
    WHERE state IS NOT NULL
    GROUP BY orderid, state, dt
),
now_in AS (
    SELECT o.orderid, o.state, o.dt, COUNT(*) AS lines
    FROM orders AS o
    WHERE o.state IS NOT NULL AND o.orderid IN (SELECT orderid FROM order_days)
    GROUP BY o.orderid, o.state, o.dt
),
-- Each (order, state, day) touched, with its change and its lines now, side by side: a
-- GROUP BY (which matches a NULL day to a NULL day) rather than a join, so a fold of a
-- million changes costs two hash aggregations, whatever the planner guesses.
order_day_lines AS (
    SELECT state, dt, SUM(change) AS change, SUM(lines) AS lines
    FROM (
        SELECT orderid, state, dt, change, 0 AS lines FROM order_days
        UNION ALL
        SELECT orderid, state, dt, 0, lines FROM now_in
    ) AS both_sides
    GROUP BY orderid, state, dt
),
order_counts AS (
    SELECT state, dt, SUM((lines > 0)::int - (lines - change > 0)::int) AS orders
    FROM order_day_lines
    GROUP BY state, dt
),
-- The (state, day) sums and their order counts side by side in a GROUP BY, not a join:
-- a join matches NULL days only through IS NOT DISTINCT FROM, which no hash or merge
-- key takes (a fold of a million changes compared 6.6M pairs, 0.7 s).
state_days AS (
    SELECT state, dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM (
        SELECT state, dt, lines, qty_sum, qty_lines, turnover, turnover_lines, 0 AS orders
        FROM fine
        WHERE state IS NOT NULL
        UNION ALL
        SELECT state, dt, 0, 0, 0, 0, 0, orders
        FROM order_counts
    ) AS both_sides
    GROUP BY state, dt
),
orders_state_day_delta AS (
    SELECT dt, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt, state
),
orders_item_day_delta AS (
    SELECT dt, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE dt IS NOT NULL AND itemid IS NOT NULL
    GROUP BY dt, itemid
),
w0 AS (
    INSERT INTO orders_state_item_day (state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND dt IS NOT NULL AND itemid IS NOT NULL
    ORDER BY state, dt, itemid
),
w1 AS (
    INSERT INTO orders_day AS r (dt, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE dt IS NOT NULL AND state IS NOT NULL
    GROUP BY dt
    ORDER BY dt
    ON CONFLICT (dt) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w2 AS (
    INSERT INTO orders_state_day AS r (dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
    FROM orders_state_day_delta
    ORDER BY dt, state
    ON CONFLICT (dt, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w3 AS (
    INSERT INTO orders_item_day AS r (dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM orders_item_day_delta
    ORDER BY dt, itemid
    ON CONFLICT (dt, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w4 AS (
    INSERT INTO orders_state_total AS r (state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines,
        SUM(orders) AS orders
    FROM state_days
    WHERE state IS NOT NULL
    GROUP BY state
    ORDER BY state
    ON CONFLICT (state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
),
w5 AS (
    INSERT INTO orders_item_total AS r (itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE itemid IS NOT NULL
    GROUP BY itemid
    ORDER BY itemid
    ON CONFLICT (itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w6 AS (
    INSERT INTO orders_state_item_total AS r (state, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
    SELECT state, itemid,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,
        SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
    FROM fine
    WHERE state IS NOT NULL AND itemid IS NOT NULL
    GROUP BY state, itemid
    ORDER BY state, itemid
    ON CONFLICT (state, itemid) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines
),
w7 AS (
    INSERT INTO orders_state_span AS r (dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders)
    SELECT dt, days, state,
        SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines, SUM(orders) AS orders
    FROM (
        SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders
        FROM (
            SELECT dt, state, lines, qty_sum, qty_lines, turnover, turnover_lines, orders, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
            FROM orders_state_day_delta
        ) AS each_size
    ) AS spread
    GROUP BY dt, days, state
    ORDER BY dt, days, state
    ON CONFLICT (dt, days, state) DO UPDATE SET
        lines = r.lines + EXCLUDED.lines,
        qty_sum = r.qty_sum + EXCLUDED.qty_sum,
        qty_lines = r.qty_lines + EXCLUDED.qty_lines,
        turnover = r.turnover + EXCLUDED.turnover,
        turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines,
        orders = r.orders + EXCLUDED.orders
)
INSERT INTO orders_item_span AS r (dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines)
SELECT dt, days, itemid,
    SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines, SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines
FROM (
    SELECT DATE '0001-01-01' + (dt - DATE '0001-01-01') / days * days AS dt, days, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines
    FROM (
        SELECT dt, itemid, lines, qty_sum, qty_lines, turnover, turnover_lines, unnest(ARRAY[8, 64, 512, 4096, 32768, 262144, 2097152, 16777216]) AS days
        FROM orders_item_day_delta
    ) AS each_size
) AS spread
GROUP BY dt, days, itemid
ORDER BY dt, days, itemid
ON CONFLICT (dt, days, itemid) DO UPDATE SET
    lines = r.lines + EXCLUDED.lines,
    qty_sum = r.qty_sum + EXCLUDED.qty_sum,
    qty_lines = r.qty_lines + EXCLUDED.qty_lines,
    turnover = r.turnover + EXCLUDED.turnover,
    turnover_lines = r.turnover_lines + EXCLUDED.turnover_lines;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_rollups_update AFTER UPDATE ON orders
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_update();

CREATE OR REPLACE FUNCTION orders_rollups_after_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
IF current_setting('dashboard.loader_writes_rollups', true) = 'on' THEN RETURN NULL; END IF;
TRUNCATE orders_day, orders_state_day, orders_item_day, orders_state_item_day, orders_state_total, orders_item_total, orders_state_item_total, orders_state_span, orders_item_span, orders_changes;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_rollups_truncate AFTER TRUNCATE ON orders
FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_truncate();

ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_rollups_truncate;

ALTER TABLE orders ADD COLUMN IF NOT EXISTS captured_xid XID8;

CREATE INDEX IF NOT EXISTS orders_captured ON orders (captured_xid) WHERE captured_xid IS NOT NULL;

ALTER TABLE orders ALTER COLUMN captured_xid DROP DEFAULT;

DROP TRIGGER IF EXISTS orders_unstamp_direct ON orders;

DROP FUNCTION IF EXISTS orders_capture_stamp();

CREATE OR REPLACE FUNCTION orders_unstamp_direct() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
NEW.captured_xid := NULL;
RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION orders_log_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
INSERT INTO orders_changes (orderid, itemid, qty, price, dt, state, sign, born)
VALUES (OLD.orderid, OLD.itemid, OLD.qty, OLD.price, OLD.dt, OLD.state, -1, OLD.captured_xid);
IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
NEW.captured_xid := pg_current_xact_id();
RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS orders_log_change ON orders;

CREATE TRIGGER orders_log_change BEFORE UPDATE OR DELETE ON orders
FOR EACH ROW EXECUTE FUNCTION orders_log_change();

ALTER TABLE orders ENABLE REPLICA TRIGGER orders_log_change;

CREATE OR REPLACE FUNCTION orders_mirror_days_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    first_day date;
    last_day date;
BEGIN
SELECT min(dt), max(dt) INTO first_day, last_day FROM changed;
IF first_day IS NOT NULL THEN
    PERFORM pg_notify('dashboard_rollups_changed',
        'days ' || to_char(first_day, 'YYYY-MM-DD') || ' ' || to_char(last_day, 'YYYY-MM-DD'));
END IF;
RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION orders_mirror_totals_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT FROM changed) THEN PERFORM pg_notify('dashboard_rollups_changed', 'totals'); END IF;
RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION orders_mirror_emptied() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
PERFORM pg_notify('dashboard_rollups_changed', 'all');
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_mirror_insert AFTER INSERT ON orders_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_day ENABLE ALWAYS TRIGGER orders_mirror_insert;

CREATE OR REPLACE TRIGGER orders_mirror_update AFTER UPDATE ON orders_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_day ENABLE ALWAYS TRIGGER orders_mirror_update;

CREATE OR REPLACE TRIGGER orders_mirror_delete AFTER DELETE ON orders_day
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_day ENABLE ALWAYS TRIGGER orders_mirror_delete;

CREATE OR REPLACE TRIGGER orders_mirror_insert AFTER INSERT ON orders_state_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_state_day ENABLE ALWAYS TRIGGER orders_mirror_insert;

CREATE OR REPLACE TRIGGER orders_mirror_update AFTER UPDATE ON orders_state_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_state_day ENABLE ALWAYS TRIGGER orders_mirror_update;

CREATE OR REPLACE TRIGGER orders_mirror_delete AFTER DELETE ON orders_state_day
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_state_day ENABLE ALWAYS TRIGGER orders_mirror_delete;

CREATE OR REPLACE TRIGGER orders_mirror_insert AFTER INSERT ON orders_item_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_item_day ENABLE ALWAYS TRIGGER orders_mirror_insert;

CREATE OR REPLACE TRIGGER orders_mirror_update AFTER UPDATE ON orders_item_day
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_item_day ENABLE ALWAYS TRIGGER orders_mirror_update;

CREATE OR REPLACE TRIGGER orders_mirror_delete AFTER DELETE ON orders_item_day
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_days_changed();

ALTER TABLE orders_item_day ENABLE ALWAYS TRIGGER orders_mirror_delete;

CREATE OR REPLACE TRIGGER orders_mirror_insert AFTER INSERT ON orders_state_total
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_state_total ENABLE ALWAYS TRIGGER orders_mirror_insert;

CREATE OR REPLACE TRIGGER orders_mirror_update AFTER UPDATE ON orders_state_total
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_state_total ENABLE ALWAYS TRIGGER orders_mirror_update;

CREATE OR REPLACE TRIGGER orders_mirror_delete AFTER DELETE ON orders_state_total
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_state_total ENABLE ALWAYS TRIGGER orders_mirror_delete;

CREATE OR REPLACE TRIGGER orders_mirror_insert AFTER INSERT ON orders_item_total
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_item_total ENABLE ALWAYS TRIGGER orders_mirror_insert;

CREATE OR REPLACE TRIGGER orders_mirror_update AFTER UPDATE ON orders_item_total
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_item_total ENABLE ALWAYS TRIGGER orders_mirror_update;

CREATE OR REPLACE TRIGGER orders_mirror_delete AFTER DELETE ON orders_item_total
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_totals_changed();

ALTER TABLE orders_item_total ENABLE ALWAYS TRIGGER orders_mirror_delete;

CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON orders_day
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied();

ALTER TABLE orders_day ENABLE ALWAYS TRIGGER orders_mirror_truncate;

CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON orders_state_day
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied();

ALTER TABLE orders_state_day ENABLE ALWAYS TRIGGER orders_mirror_truncate;

CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON orders_item_day
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied();

ALTER TABLE orders_item_day ENABLE ALWAYS TRIGGER orders_mirror_truncate;

CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON orders_state_total
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied();

ALTER TABLE orders_state_total ENABLE ALWAYS TRIGGER orders_mirror_truncate;

CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON orders_item_total
FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied();

ALTER TABLE orders_item_total ENABLE ALWAYS TRIGGER orders_mirror_truncate;
