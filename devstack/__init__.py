"""The embedded local stack: moto on loopback, Chalice's local server, a scheduler tick and an SQS
drain calling the very handlers AWS calls. Development and tests only; never imported by app.py."""
