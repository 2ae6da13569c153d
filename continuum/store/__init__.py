"""The canonical store: tables, engine, migrations and the repository functions over them."""
