"""The system of record: models, migrations, and the domain rules over them."""
