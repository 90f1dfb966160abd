"""API tokens for machine clients (a spreadsheet's import, a cron job, another service):
each token belongs to a user, is shown once when created and stored only as its SHA-256
digest, and opens the read-only /api/ endpoints (JSON and CSV) as that user through
`Authorization: Bearer <token>`, never the HTML pages or the admin. models.py holds the
token, services.py creates, revokes and checks them, admin.py lists them."""
