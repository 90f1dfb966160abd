-- The DDL `manage.py setup_olap` gives a new PostgreSQL database for SHOP_SCHEMA=oscar, in order
-- (after the source, on RisingWave). Generated from dashboard/orders/derivation.py;
-- tests/shop/test_ddl_golden.py checks it.

CREATE SCHEMA IF NOT EXISTS "public";

CREATE SCHEMA IF NOT EXISTS "dashboard_capture";

CREATE TABLE IF NOT EXISTS dashboard_capture.cdc_heartbeat (
    id INT PRIMARY KEY,
    beat TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS "public"."order_order" (
    "id" bigint,
    "date_placed" timestamp with time zone,
    "status" character varying(100),
    "shipping_address_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "public"."order_line" (
    "id" bigint,
    "order_id" bigint,
    "product_id" bigint,
    "quantity" integer,
    "line_price_excl_tax" numeric(12,2),
    "status" character varying(255),
    PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "public"."order_shippingaddress" (
    "id" bigint,
    "state" character varying(255),
    "country_id" character varying(2),
    PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "public"."catalogue_product" (
    "id" bigint,
    "title" character varying(255),
    PRIMARY KEY ("id")
);

CREATE INDEX IF NOT EXISTS "order_line_order_id_shop" ON "public"."order_line" ("order_id");

CREATE INDEX IF NOT EXISTS "order_order_shipping_address_id_shop" ON "public"."order_order" ("shipping_address_id");

ALTER TABLE "public"."order_order" ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id();

ALTER TABLE "public"."order_line" ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id();

ALTER TABLE "public"."order_shippingaddress" ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id();

CREATE TABLE IF NOT EXISTS shop_touched (
    order_key bigint,
    orderid BIGINT
);

CREATE TABLE IF NOT EXISTS shop_state_names (
    name VARCHAR,
    code VARCHAR NOT NULL,
    territory BOOLEAN NOT NULL,
    PRIMARY KEY (name)
);

CREATE OR REPLACE FUNCTION "shop_truncated"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
INSERT INTO shop_touched (orderid) SELECT DISTINCT orderid FROM orders;
RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "shop_touch_order_order"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
IF TG_OP <> 'DELETE' THEN INSERT INTO shop_touched (orderid) VALUES (NEW."id"); END IF;
IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD."id" IS DISTINCT FROM NEW."id") THEN INSERT INTO shop_touched (orderid) VALUES (OLD."id"); END IF;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "shop_touch_order_order" AFTER UPDATE OR DELETE ON "public"."order_order"
FOR EACH ROW EXECUTE FUNCTION "shop_touch_order_order"();

ALTER TABLE "public"."order_order" DISABLE TRIGGER "shop_touch_order_order";

CREATE OR REPLACE TRIGGER "shop_truncate_order_order" AFTER TRUNCATE ON "public"."order_order"
FOR EACH STATEMENT EXECUTE FUNCTION "shop_truncated"();

ALTER TABLE "public"."order_order" DISABLE TRIGGER "shop_truncate_order_order";

CREATE OR REPLACE FUNCTION "shop_touch_order_line"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
IF TG_OP <> 'DELETE' THEN INSERT INTO shop_touched (order_key) VALUES (NEW."order_id"); END IF;
IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD."order_id" IS DISTINCT FROM NEW."order_id") THEN INSERT INTO shop_touched (order_key) VALUES (OLD."order_id"); END IF;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "shop_touch_order_line" AFTER UPDATE OR DELETE ON "public"."order_line"
FOR EACH ROW EXECUTE FUNCTION "shop_touch_order_line"();

ALTER TABLE "public"."order_line" DISABLE TRIGGER "shop_touch_order_line";

CREATE OR REPLACE TRIGGER "shop_truncate_order_line" AFTER TRUNCATE ON "public"."order_line"
FOR EACH STATEMENT EXECUTE FUNCTION "shop_truncated"();

ALTER TABLE "public"."order_line" DISABLE TRIGGER "shop_truncate_order_line";

CREATE OR REPLACE FUNCTION "shop_touch_order_shippingaddress"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
IF TG_OP <> 'DELETE' THEN INSERT INTO shop_touched (orderid) SELECT "id" FROM "public"."order_order" WHERE "shipping_address_id" = NEW."id"; END IF;
IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD."id" IS DISTINCT FROM NEW."id") THEN INSERT INTO shop_touched (orderid) SELECT "id" FROM "public"."order_order" WHERE "shipping_address_id" = OLD."id"; END IF;
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "shop_touch_order_shippingaddress" AFTER UPDATE OR DELETE ON "public"."order_shippingaddress"
FOR EACH ROW EXECUTE FUNCTION "shop_touch_order_shippingaddress"();

ALTER TABLE "public"."order_shippingaddress" DISABLE TRIGGER "shop_touch_order_shippingaddress";

CREATE OR REPLACE TRIGGER "shop_truncate_order_shippingaddress" AFTER TRUNCATE ON "public"."order_shippingaddress"
FOR EACH STATEMENT EXECUTE FUNCTION "shop_truncated"();

ALTER TABLE "public"."order_shippingaddress" DISABLE TRIGGER "shop_truncate_order_shippingaddress";

CREATE OR REPLACE FUNCTION "shop_touch_catalogue_product"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "shop_touch_catalogue_product" AFTER INSERT OR UPDATE OR DELETE ON "public"."catalogue_product"
FOR EACH ROW EXECUTE FUNCTION "shop_touch_catalogue_product"();

ALTER TABLE "public"."catalogue_product" DISABLE TRIGGER "shop_touch_catalogue_product";

CREATE OR REPLACE TRIGGER "shop_truncate_catalogue_product" AFTER TRUNCATE ON "public"."catalogue_product"
FOR EACH STATEMENT EXECUTE FUNCTION "shop_touch_catalogue_product"();

ALTER TABLE "public"."catalogue_product" DISABLE TRIGGER "shop_truncate_catalogue_product";

WITH taken AS (DELETE FROM shop_touched RETURNING order_key, orderid)
INSERT INTO pg_temp.shop_touched_now (orderid)
SELECT orderid FROM taken WHERE orderid IS NOT NULL
UNION
SELECT o."id" FROM "public"."order_order" AS o
WHERE o."id" IN (SELECT order_key FROM taken WHERE order_key IS NOT NULL)
UNION
SELECT o."id" FROM "public"."order_order" AS o WHERE o.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(o.captured_xid, %(previous)s::pg_snapshot)
UNION
SELECT l."order_id" FROM "public"."order_line" AS l WHERE l.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(l.captured_xid, %(previous)s::pg_snapshot)
UNION
SELECT o."id" FROM "public"."order_shippingaddress" AS a JOIN "public"."order_order" AS o ON o."shipping_address_id" = a."id" WHERE a.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(a.captured_xid, %(previous)s::pg_snapshot);

INSERT INTO pg_temp.shop_lines_now
WITH o AS MATERIALIZED (
    SELECT o."id" AS order_key, o."id"::BIGINT AS orderid, (o."date_placed" AT TIME ZONE 'UTC')::DATE AS dt,
        a."state" AS "written_state", a."country_id" AS "written_country"
    FROM "public"."order_order" AS o
    JOIN pg_temp.shop_touched_now AS touched ON touched.orderid = o."id"
    LEFT JOIN "public"."order_shippingaddress" AS a ON a."id" = o."shipping_address_id"
    WHERE (o."status" IS NULL OR o."status" NOT IN ('Cancelled'))
),
places AS MATERIALIZED (
    SELECT "written_state", "written_country", CASE WHEN translate(a."written_country", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') IN ('US', 'USA', 'UNITEDSTATES', 'UNITEDSTATESOFAMERICA') THEN s.code ELSE t.code END AS state
    FROM (SELECT DISTINCT "written_state", "written_country" FROM o) AS a
    LEFT JOIN "shop_state_names" AS s ON s.name = translate(a."written_state", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
    LEFT JOIN "shop_state_names" AS t ON t.territory AND t.name = translate(a."written_country", 'abcdefghijklmnopqrstuvwxyz ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12) || chr(160) || '.,-_''', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
)
SELECT o.orderid, l.itemid, l.qty, NULL::NUMERIC AS price, o.dt, p.state, l.amount
FROM o
LEFT JOIN places AS p ON (p."written_state" IS NULL) = (o."written_state" IS NULL) AND COALESCE(p."written_state"::TEXT, '') = COALESCE(o."written_state"::TEXT, '') AND (p."written_country" IS NULL) = (o."written_country" IS NULL) AND COALESCE(p."written_country"::TEXT, '') = COALESCE(o."written_country"::TEXT, '')
JOIN (
    SELECT l."order_id" AS order_key, l."product_id"::INT AS itemid, SUM(l."quantity")::INT AS qty,
        SUM(l."line_price_excl_tax") AS amount
    FROM "public"."order_line" AS l
    WHERE (l."status" IS NULL OR l."status" NOT IN ('Cancelled'))
        AND l."order_id" IN (
            SELECT o."id" FROM "public"."order_order" AS o
            JOIN pg_temp.shop_touched_now AS touched ON touched.orderid = o."id"
        )
    GROUP BY 1, 2
) AS l ON l.order_key = o.order_key;

WITH delta AS (
    SELECT orderid, state, itemid, dt, 1 AS sign, qty, COALESCE(amount, qty * price) AS turnover
    FROM pg_temp.shop_lines_now
    UNION ALL
    SELECT orderid, state, itemid, dt, -1, -qty, -COALESCE(amount, qty * price)
    FROM orders WHERE orderid IN (SELECT orderid FROM pg_temp.shop_touched_now)
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
order_counts AS (
    SELECT state, dt, SUM(after::int - before::int) AS orders
    FROM (
        SELECT orderid, state, dt, bool_or(sign > 0) AS after, bool_or(sign < 0) AS before
        FROM delta
        WHERE state IS NOT NULL
        GROUP BY orderid, state, dt
    ) AS order_days
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

SELECT set_config('dashboard.loader_writes_rollups', 'on', true);

DELETE FROM orders WHERE orderid IN (SELECT orderid FROM pg_temp.shop_touched_now);

INSERT INTO orders (orderid, itemid, qty, price, dt, state, amount)
SELECT orderid, itemid, qty, price, dt, state, amount FROM pg_temp.shop_lines_now;

SELECT set_config('dashboard.loader_writes_rollups', 'off', true);
