"""A small, real django-oscar 4.2 shop for the change-data-capture tests: its settings, and the
driver the test process runs in a subprocess of its own (one Django settings module per process)
to place and change orders through oscar's own code. tests/support/oscar_shop.py is the client."""
