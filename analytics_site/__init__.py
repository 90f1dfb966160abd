"""The Django project: settings read from the environment (settings.py, env.py), the root
URLs, the WSGI entry, and what guards the whole site (security headers, login throttling).
May import Django and the dashboard app's modules that URLs and settings name."""
