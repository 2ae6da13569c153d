"""The canonical store: tables, engine, migrations, and named queries returning typed rows.

Only this package builds SQL; the engine, the operator actions and the CLI
call its functions.  Every function takes an open ``Connection`` so that the
caller decides the transaction (the engine commits a page of records together
with its cursor).

- :mod:`.db` opens the store and migrates it (Alembic, ``continuum/migrations``);
- :mod:`.tables` declares the tables and the unique keys the invariants rely on;
- :mod:`.rows` types what the queries return;
- one module per table: :mod:`.interactions`, :mod:`.customers` (and identities),
  :mod:`.feature_requests`, :mod:`.links`, :mod:`.cursors`, :mod:`.outbox`,
  :mod:`.dead_letters`, :mod:`.audit`; :mod:`.status` counts them all;
- :mod:`.base` holds race-safe inserts and content hashes;
- :mod:`.locking` holds a pipeline's run lock.
"""
