"""Who is logged in: Django's database sessions, each row naming its user, so that a request
reads its session and that user in one statement instead of two.

Django's own engine keeps the user's id inside the signed session data, where SQL cannot see
it, so `AuthenticationMiddleware` asks the users' database twice per request: the session,
then its user. Here the session row also carries the user's id (a column, as Django's docs
show for a custom session model), the session is read joined to its user, and the
authentication backend takes that user instead of asking again. Django's own code still
decides who the user is: the session hash (a changed password logs every session out), an
inactive user, the backend named in the session.

models.py holds the session row; store.py is the session engine (SESSION_ENGINE); auth.py
the backend and the middleware that hands it the session being read; kept.py the rows each
connection keeps until the database notifies a change to a session or a user. Imports Django,
psycopg2 and dashboard.statements.
"""
