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

CREATE INDEX IF NOT EXISTS "order_order_captured_shop" ON "public"."order_order" (captured_xid);

ALTER TABLE "public"."order_line" ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id();

CREATE INDEX IF NOT EXISTS "order_line_captured_shop" ON "public"."order_line" (captured_xid);

ALTER TABLE "public"."order_shippingaddress" ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id();

CREATE INDEX IF NOT EXISTS "order_shippingaddress_captured_shop" ON "public"."order_shippingaddress" (captured_xid);

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

CREATE OR REPLACE FUNCTION "shop_touch_catalogue_product"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
PERFORM nextval('orders_rollups_version');
RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "shop_touch_catalogue_product" AFTER INSERT OR UPDATE OR DELETE ON "public"."catalogue_product"
FOR EACH ROW EXECUTE FUNCTION "shop_touch_catalogue_product"();

ALTER TABLE "public"."catalogue_product" DISABLE TRIGGER "shop_touch_catalogue_product";

WITH taken AS (DELETE FROM shop_touched RETURNING order_key, orderid)
INSERT INTO pg_temp.shop_touched_now (orderid)
SELECT orderid FROM taken WHERE orderid IS NOT NULL
UNION
SELECT o."id" FROM "public"."order_order" AS o
WHERE o."id" IN (SELECT order_key FROM taken WHERE order_key IS NOT NULL)
UNION
SELECT o."id" FROM "public"."order_order" AS o WHERE o.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(o.captured_xid, %(previous)s::pg_snapshot)
UNION
SELECT o."id" FROM "public"."order_line" AS l JOIN "public"."order_order" AS o ON o."id" = l."order_id" WHERE l.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(l.captured_xid, %(previous)s::pg_snapshot)
UNION
SELECT o."id" FROM "public"."order_shippingaddress" AS a JOIN "public"."order_order" AS o ON o."shipping_address_id" = a."id" WHERE a.captured_xid >= pg_snapshot_xmin(%(previous)s::pg_snapshot) AND NOT pg_visible_in_snapshot(a.captured_xid, %(previous)s::pg_snapshot);

INSERT INTO pg_temp.shop_lines_now
SELECT o."id"::BIGINT AS orderid, l."product_id"::INT AS itemid, SUM(l."quantity")::INT AS qty,
    NULL::NUMERIC AS price, (o."date_placed" AT TIME ZONE 'UTC')::DATE AS dt,
    CASE WHEN translate(translate(a."country_id", ' 	.,-_''', ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') IN ('US', 'USA', 'UNITEDSTATES', 'UNITEDSTATESOFAMERICA') THEN s.code ELSE t.code END AS state,
    SUM(l."line_price_excl_tax") AS amount
FROM "public"."order_order" AS o
JOIN pg_temp.shop_touched_now AS touched ON touched.orderid = o."id"
JOIN "public"."order_line" AS l ON l."order_id" = o."id"
LEFT JOIN "public"."order_shippingaddress" AS a ON a."id" = o."shipping_address_id"
LEFT JOIN "shop_state_names" AS s ON s.name = translate(translate(a."state", ' 	.,-_''', ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
LEFT JOIN "shop_state_names" AS t ON t.territory AND t.name = translate(translate(a."country_id", ' 	.,-_''', ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
WHERE (o."status" IS NULL OR o."status" NOT IN ('Cancelled')) AND (l."status" IS NULL OR l."status" NOT IN ('Cancelled'))
GROUP BY 1, 2, 5, 6;

DELETE FROM orders AS held
USING (SELECT orderid, itemid, qty, price, dt, state, amount FROM orders WHERE orderid IN (SELECT orderid FROM pg_temp.shop_touched_now)
    EXCEPT SELECT * FROM pg_temp.shop_lines_now) AS gone
WHERE held.orderid = gone.orderid AND held.itemid IS NOT DISTINCT FROM gone.itemid;

INSERT INTO orders (orderid, itemid, qty, price, dt, state, amount)
SELECT * FROM pg_temp.shop_lines_now
EXCEPT SELECT orderid, itemid, qty, price, dt, state, amount FROM orders WHERE orderid IN (SELECT orderid FROM pg_temp.shop_touched_now);
