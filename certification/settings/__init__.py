"""One settings module per environment: `development` (manage.py's default),
`test` (pytest), `production` (gunicorn through wsgi.py); `base` is shared."""
