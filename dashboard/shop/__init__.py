"""The shop connection: what a shop's own tables mean to the dashboard, as data.

A shop keeps its orders in its own schema. `SHOP_SCHEMA` says which: `sample` (the
dashboard's own six-column `orders` table, its lines as they are), `oscar` (the preset in
presets/oscar.toml, django-oscar's tables) or the path of a mapping file in the same format
for any other schema. A mapping names, per role (order, line, shipping address, product),
the table and the columns that hold what the dashboard needs: what a line, a day, a state
and a cancellation are. mapping.py reads and validates it; places.py holds the names a
free-text state may be written as. The order side (dashboard.orders.derivation) turns a
mapping into SQL for either engine.

May import: the standard library and dashboard.us_states. Nothing of Django's database layer.
"""
