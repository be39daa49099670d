"""``sparkseg retain``: drop as-of partitions older than the retention (see stage.py)."""
