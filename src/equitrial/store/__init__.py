"""The clinical data store: SQLAlchemy models, Alembic migrations, the audit trail, backups.

``store`` is the only layer that knows SQL. Services open one transaction per use case with
:func:`equitrial.store.db.transaction` and write their audit rows with
:mod:`equitrial.store.audit` inside it.
"""
