"""WSGI entry point for gunicorn (``vangnet serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vangnet.config.dev")
application = get_wsgi_application()
