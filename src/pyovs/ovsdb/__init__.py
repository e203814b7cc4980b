"""OVSDB: schema, data model, transactions, storage, monitors and the server."""
