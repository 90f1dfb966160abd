"""What the sessions' tests share besides their fixtures (tests/site/conftest.py)."""

from django.urls import reverse_lazy

API = reverse_lazy("dashboard:api-rankings")
PASSWORD = "correct horse battery staple"
