#!/usr/bin/env python3
"""prepare_source: makes sure the database to back up exists. The first run creates a
deterministic sample database (orders and customers, a few MB), as a real system would
already have one."""
import os
import random
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATABASE  # noqa: E402
from lib import inject_failure, output, progress  # noqa: E402

inject_failure("database is offline")
progress(0, "checking the database")
if not os.path.exists(DATABASE):
    os.makedirs(os.path.dirname(DATABASE), exist_ok=True)
    rng = random.Random(3)
    if os.path.exists(DATABASE + ".tmp"):
        os.remove(DATABASE + ".tmp")  # left by an interrupted first run
    db = sqlite3.connect(DATABASE + ".tmp")
    db.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                             amount_cents INTEGER NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX orders_customer ON orders(customer_id);
    """)
    with db:
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                       [(i, f"customer {i}", f"c{i}@example.test", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}") for i in range(1, 5001)])
        for batch in range(10):
            db.executemany("INSERT INTO orders (customer_id, amount_cents, note, created_at) VALUES (?, ?, ?, ?)",
                           [(rng.randint(1, 5000), rng.randint(100, 500000), "order note " + "x" * rng.randint(10, 120),
                             f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}") for n in range(5000)])
            progress(9 * (batch + 1), "creating sample data")
    db.close()
    os.replace(DATABASE + ".tmp", DATABASE)
    print(f"created sample database {DATABASE}")
db = sqlite3.connect(DATABASE)
orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
db.close()
size = os.path.getsize(DATABASE)
print(f"source {DATABASE}: {size} bytes, {orders} orders")
progress(100, "ready")
output("source_bytes", size)
