"""Team mode (SPEC §11): many users' scans on PostgreSQL, Celery and Redis.

Everything here needs the `team` extra (`pip install 'calbot[team]'`) except `cli` and
`extra`, which the single-user CLI imports to register `calbot team` and to say what is
missing. This `__init__` imports nothing: importing `calbot` or `calbot.team` never loads
Celery. (`celery -A calbot.team` finds its app in `calbot/team/celery.py`, Celery's own
convention for a package.)
"""
