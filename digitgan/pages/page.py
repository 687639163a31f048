"""The page, assembled from the shared assets (assets/): page.html, page.css, page.js and a painter script — the
served page's (served.js: pictures from the HTTP API) or the offline page's (offline.js: the model runs in the
page). Every script is inline, so the page needs nothing but itself (and, served, the API)."""

from __future__ import annotations

from importlib import resources


def asset(name: str) -> str:
    return (resources.files("digitgan.pages") / "assets" / name).read_text()


def inline_script(code: str, module: bool = True) -> str:
    """A <script> element holding `code` (a '</script' inside it is escaped so it cannot end the element early)."""
    kind = ' type="module"' if module else ""
    safe = code.replace("</script", "<\\/script")
    return f"<script{kind}>\n{safe}\n</script>"


def page_html(scripts: list[str]) -> str:
    """page.html with its stylesheet and `scripts` (complete <script> elements, run in order) inlined."""
    return (asset("page.html").replace("/*PAGE_CSS*/", asset("page.css"))
            .replace("<!--PAGE_SCRIPTS-->", "\n".join(scripts)))


def served_page() -> str:
    """The page `digitgan serve` answers at /: it draws through the HTTP API."""
    return page_html([inline_script(asset("served.js")), inline_script(asset("page.js"))])
