"""The pages: the served page and HTTP API (server.py), the offline page (site.py), one page for both (page.py
assembles assets/: page.html, page.css, page.js and a painter: served.js or offline.js), and the headless browser
that checks them (browser.py)."""
