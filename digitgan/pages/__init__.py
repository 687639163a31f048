"""The pages: the served page and HTTP API (server.py), sharing one folder of page assets (assets/)."""
