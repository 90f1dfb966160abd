"""Talking to the OLAP database: which engine it is, its schema, and bulk loading."""
