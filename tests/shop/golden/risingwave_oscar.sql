-- The DDL `manage.py setup_olap` gives a new RisingWave database for SHOP_SCHEMA=oscar, in order
-- (after the source, on RisingWave). Generated from dashboard/orders/derivation.py;
-- tests/shop/test_ddl_golden.py checks it.

CREATE SCHEMA IF NOT EXISTS "dashboard_capture";

CREATE TABLE IF NOT EXISTS dashboard_capture.cdc_heartbeat (
    id INT,
    beat TIMESTAMPTZ,
    PRIMARY KEY (id)
) FROM shop_orders_cdc TABLE 'dashboard_capture.cdc_heartbeat';

CREATE TABLE IF NOT EXISTS "public"."order_order" (
    "id" BIGINT,
    "date_placed" TIMESTAMPTZ,
    "status" VARCHAR,
    "shipping_address_id" BIGINT,
    PRIMARY KEY ("id")
) FROM shop_orders_cdc TABLE 'public.order_order';

CREATE TABLE IF NOT EXISTS "public"."order_line" (
    "id" BIGINT,
    "order_id" BIGINT,
    "product_id" BIGINT,
    "quantity" INT,
    "line_price_excl_tax" NUMERIC,
    "status" VARCHAR,
    PRIMARY KEY ("id")
) FROM shop_orders_cdc TABLE 'public.order_line';

CREATE TABLE IF NOT EXISTS "public"."order_shippingaddress" (
    "id" BIGINT,
    "state" VARCHAR,
    "country_id" VARCHAR,
    PRIMARY KEY ("id")
) FROM shop_orders_cdc TABLE 'public.order_shippingaddress';

CREATE TABLE IF NOT EXISTS "public"."catalogue_product" (
    "id" BIGINT,
    "title" VARCHAR,
    PRIMARY KEY ("id")
) FROM shop_orders_cdc TABLE 'public.catalogue_product';

CREATE TABLE IF NOT EXISTS shop_state_names (
    name VARCHAR,
    code VARCHAR NOT NULL,
    territory BOOLEAN NOT NULL,
    PRIMARY KEY (name)
);

INSERT INTO shop_state_names (name, code, territory) VALUES
    ('AK', 'AK', false),
    ('AL', 'AL', false),
    ('ALABAMA', 'AL', false),
    ('ALASKA', 'AK', false),
    ('AMERICANSAMOA', 'AS', true),
    ('AR', 'AR', false),
    ('ARIZONA', 'AZ', false),
    ('ARKANSAS', 'AR', false),
    ('AS', 'AS', true),
    ('AZ', 'AZ', false),
    ('CA', 'CA', false),
    ('CALIFORNIA', 'CA', false),
    ('CO', 'CO', false),
    ('COLORADO', 'CO', false),
    ('COMMONWEALTHOFPUERTORICO', 'PR', true),
    ('COMMONWEALTHOFTHENORTHERNMARIANAISLANDS', 'MP', true),
    ('CONNECTICUT', 'CT', false),
    ('CT', 'CT', false),
    ('DC', 'DC', false),
    ('DE', 'DE', false),
    ('DELAWARE', 'DE', false),
    ('DISTRICTOFCOLUMBIA', 'DC', false),
    ('FL', 'FL', false),
    ('FLORIDA', 'FL', false),
    ('GA', 'GA', false),
    ('GEORGIA', 'GA', false),
    ('GU', 'GU', true),
    ('GUAM', 'GU', true),
    ('HAWAII', 'HI', false),
    ('HI', 'HI', false),
    ('IA', 'IA', false),
    ('ID', 'ID', false),
    ('IDAHO', 'ID', false),
    ('IL', 'IL', false),
    ('ILLINOIS', 'IL', false),
    ('IN', 'IN', false),
    ('INDIANA', 'IN', false),
    ('IOWA', 'IA', false),
    ('KANSAS', 'KS', false),
    ('KENTUCKY', 'KY', false),
    ('KS', 'KS', false),
    ('KY', 'KY', false),
    ('LA', 'LA', false),
    ('LOUISIANA', 'LA', false),
    ('MA', 'MA', false),
    ('MAINE', 'ME', false),
    ('MARYLAND', 'MD', false),
    ('MASSACHUSETTS', 'MA', false),
    ('MD', 'MD', false),
    ('ME', 'ME', false),
    ('MI', 'MI', false),
    ('MICHIGAN', 'MI', false),
    ('MINNESOTA', 'MN', false),
    ('MISSISSIPPI', 'MS', false),
    ('MISSOURI', 'MO', false),
    ('MN', 'MN', false),
    ('MO', 'MO', false),
    ('MONTANA', 'MT', false),
    ('MP', 'MP', true),
    ('MS', 'MS', false),
    ('MT', 'MT', false),
    ('NC', 'NC', false),
    ('ND', 'ND', false),
    ('NE', 'NE', false),
    ('NEBRASKA', 'NE', false),
    ('NEVADA', 'NV', false),
    ('NEWHAMPSHIRE', 'NH', false),
    ('NEWJERSEY', 'NJ', false),
    ('NEWMEXICO', 'NM', false),
    ('NEWYORK', 'NY', false),
    ('NH', 'NH', false),
    ('NJ', 'NJ', false),
    ('NM', 'NM', false),
    ('NORTHCAROLINA', 'NC', false),
    ('NORTHDAKOTA', 'ND', false),
    ('NORTHERNMARIANAISLANDS', 'MP', true),
    ('NORTHERNMARIANAS', 'MP', true),
    ('NV', 'NV', false),
    ('NY', 'NY', false),
    ('OH', 'OH', false),
    ('OHIO', 'OH', false),
    ('OK', 'OK', false),
    ('OKLAHOMA', 'OK', false),
    ('OR', 'OR', false),
    ('OREGON', 'OR', false),
    ('PA', 'PA', false),
    ('PENNSYLVANIA', 'PA', false),
    ('PR', 'PR', true),
    ('PUERTORICO', 'PR', true),
    ('RHODEISLAND', 'RI', false),
    ('RI', 'RI', false),
    ('SC', 'SC', false),
    ('SD', 'SD', false),
    ('SOUTHCAROLINA', 'SC', false),
    ('SOUTHDAKOTA', 'SD', false),
    ('TENNESSEE', 'TN', false),
    ('TEXAS', 'TX', false),
    ('TN', 'TN', false),
    ('TX', 'TX', false),
    ('UNITEDSTATESVIRGINISLANDS', 'VI', true),
    ('USVIRGINISLANDS', 'VI', true),
    ('UT', 'UT', false),
    ('UTAH', 'UT', false),
    ('VA', 'VA', false),
    ('VERMONT', 'VT', false),
    ('VI', 'VI', true),
    ('VIRGINIA', 'VA', false),
    ('VIRGINISLANDS', 'VI', true),
    ('VT', 'VT', false),
    ('WA', 'WA', false),
    ('WASHINGTON', 'WA', false),
    ('WASHINGTONDC', 'DC', false),
    ('WESTVIRGINIA', 'WV', false),
    ('WI', 'WI', false),
    ('WISCONSIN', 'WI', false),
    ('WV', 'WV', false),
    ('WY', 'WY', false),
    ('WYOMING', 'WY', false);

FLUSH;

CREATE MATERIALIZED VIEW IF NOT EXISTS orders AS
WITH o AS (
    SELECT o."id" AS order_key, o."id"::BIGINT AS orderid, (o."date_placed" AT TIME ZONE 'UTC')::DATE AS dt,
        CASE WHEN translate(a."country_id", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') IN ('US', 'USA', 'UNITEDSTATES', 'UNITEDSTATESOFAMERICA') THEN s.code ELSE t.code END AS state
    FROM "public"."order_order" AS o
    LEFT JOIN "public"."order_shippingaddress" AS a ON a."id" = o."shipping_address_id"
    LEFT JOIN "shop_state_names" AS s ON s.name = translate(a."state", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
    LEFT JOIN "shop_state_names" AS t ON t.territory AND t.name = translate(a."country_id", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
    WHERE (o."status" IS NULL OR o."status" NOT IN ('Cancelled'))
)
SELECT o.orderid, l.itemid, l.qty, NULL::NUMERIC AS price, o.dt, o.state, l.amount
FROM o
JOIN (
    SELECT l."order_id" AS order_key, l."product_id"::INT AS itemid, SUM(l."quantity")::INT AS qty,
        SUM(l."line_price_excl_tax") AS amount
    FROM "public"."order_line" AS l
    WHERE (l."status" IS NULL OR l."status" NOT IN ('Cancelled'))
    GROUP BY 1, 2
) AS l ON l.order_key = o.order_key;

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
