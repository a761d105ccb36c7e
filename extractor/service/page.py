"""The page at `/` (and `/jobs/{id}`, a job's shareable address) and the API documentation
at `/docs` and `/redoc`, every asset served by this process (nothing from the internet).

The page is public and holds no data: it asks for the API key, keeps it in the tab's
sessionStorage (never in a URL) and calls `/v1` with it. Swagger UI and ReDoc come from the
`fastapi-offline` package, which ships their bundles.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from .problems import ApiError

page = APIRouter(include_in_schema=False)
STATIC = Path(str(resources.files("extractor.service") / "static"))
# What the page's own folder serves: nothing else in it, and no path from the request.
PAGE_ASSETS = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
# The assets change only with the installed version: a browser may keep them an hour.
CACHE = {"Cache-Control": "public, max-age=3600"}
# The documentation pages load from this server only: ReDoc's bundle links its logo from a
# CDN, which the browser is told not to fetch.
DOCS_POLICY = {"Content-Security-Policy": "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"}


def docs_assets() -> Path:
    """The folder of the Swagger UI and ReDoc bundles shipped by `fastapi-offline`."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def index_html() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


@page.get("/", response_class=HTMLResponse)
@page.get("/jobs/{job_id}", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    """The page: submit articles, follow jobs, read their results (it asks for the key and calls /v1)."""
    return HTMLResponse(index_html(), headers={"Cache-Control": "no-cache"})


@page.get("/static/{name}")
async def page_asset(name: str) -> Response:
    if name not in PAGE_ASSETS:
        raise ApiError(404, "not_found", f"no asset {name}")
    return FileResponse(STATIC / name, media_type=PAGE_ASSETS[name], headers=CACHE)


@page.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise ApiError(404, "not_found", f"no asset {name}")
    return FileResponse(docs_assets() / name, media_type=DOCS_ASSETS[name], headers=CACHE)


def _docs(request: Request, kind: Literal["swagger", "redoc"]) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    openapi_url, title = f"{root}/openapi.json", str(request.app.title)
    if kind == "swagger":
        answer = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon.png",
        )
    else:
        answer = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}/docs/assets/redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs/assets/favicon.png",
            with_google_fonts=False,
        )
    answer.headers.update(DOCS_POLICY)
    return answer


@page.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return _docs(request, "swagger")


@page.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return _docs(request, "redoc")


__all__ = ["page"]
