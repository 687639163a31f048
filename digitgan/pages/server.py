"""`digitgan serve`: a local web page and an HTTP API over one generator (FastAPI + uvicorn).

FastAPI gives typed query validation (422 with a message), an OpenAPI schema at /openapi.json, and an
in-process test client; uvicorn is its standard server. The model loads once; every request generates its
images in one batch, and a lock keeps concurrent requests from oversubscribing the CPU threads. No
parameter is ever used as a path: the only files read are the model's, chosen at start-up.
"""

import base64
import threading
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from fastapi import Query

from digitgan.drawing.numbers import (
    SEPARATORS,
    clock_label_vectors,
    clock_picture,
    interpolate,
    parse_time,
    rows_picture,
    write_number,
)
from digitgan.drawing.sampling import digit_grid, generate, label_mix
from digitgan.errors import UserError
from digitgan.files import png_bytes
from digitgan.modelfolder.evaluation import evaluation_summary, read_report
from digitgan.modelfolder.folder import default_model_dir, find_model_dir, load_generator
from digitgan.models import is_conditional, one_hot, sample_noise

MAX_QUERY = 512
TEXT_PATTERN = r"^[0-9: \-]{1,32}$"
# FastAPI reads these annotations at run time, so they live at module level (no postponed evaluation here).
Digit = Annotated[int, Query(ge=0, le=9, description="a digit 0-9")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1)]


def png(picture: np.ndarray, scale: int = 2) -> Any:
    from fastapi.responses import Response

    return Response(png_bytes(picture, scale), media_type="image/png")


def create_app(model: Path | None = None) -> Any:
    """The ASGI app for one model directory (default: the model shipped with digitgan)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    model_dir = find_model_dir(model) if model is not None else default_model_dir()
    generator, config, raw = load_generator(model_dir)
    report = read_report(model_dir)
    conditional = is_conditional(config.model)

    app = FastAPI(title="digitgan", version="1", docs_url=None, redoc_url=None,
                  description="Handwritten digits on demand from a class-conditional GAN.")

    @app.middleware("http")
    async def limit_query(request: Request, call_next):  # noqa: ANN001, ANN202 - ASGI middleware
        if len(request.url.query) > MAX_QUERY:
            return JSONResponse({"detail": f"query longer than {MAX_QUERY} characters"}, status_code=414)
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return (resources.files("digitgan.pages") / "assets" / "index.html").read_text()

    @app.get("/api/health", summary="liveness")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/api/model", summary="the model's configuration and evaluation summary")
    def model_info() -> dict:
        return {"preset": config.preset, "step": raw.get("step"), "images_seen": raw.get("images_seen"),
                "conditional": conditional, "model": raw.get("model"), "evaluation": evaluation_summary(report)}

    add_drawing_routes(app, generator, config)
    return app


def add_drawing_routes(app: Any, generator: torch.nn.Module, config: Any) -> None:
    """The endpoints that draw: write, sample, interpolate, mix, clock. One model call at a time (a lock), so
    concurrent requests queue instead of oversubscribing the CPU threads."""
    from fastapi import HTTPException, Request
    from fastapi.responses import JSONResponse, Response

    lock = threading.Lock()
    image_png = {200: {"content": {"image/png": {}}}}

    def run(function, *args, **kwargs):  # noqa: ANN001, ANN202 - serialises model calls
        try:
            with lock, torch.no_grad():
                return function(*args, **kwargs)
        except UserError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None

    def need_conditional() -> None:
        if not is_conditional(config.model):
            raise HTTPException(status_code=422, detail="this model is unconditional: it cannot draw chosen digits")

    @app.get("/api/write", summary="a number handwritten, one writer per row", response_class=Response,
             responses=image_png)
    def write(text: Annotated[str, Query(pattern=TEXT_PATTERN, description="digits, ':', '-', space")],
              styles: Annotated[int, Query(ge=1, le=16)] = 1, seed: Seed = 0) -> Response:
        need_conditional()
        if all(ch in SEPARATORS for ch in text):
            raise HTTPException(status_code=422, detail="text has no digit")
        return png(rows_picture(run(write_number, generator, config, text, styles=styles, seed=seed)))

    @app.get("/api/sample", summary="a grid of one digit (PNG, or JSON with base64 PNGs)", response_class=Response,
             responses={200: {"content": {"image/png": {}, "application/json": {}}}})
    def sample(request: Request, digit: Digit, n: Annotated[int, Query(ge=1, le=256)] = 16,
               seed: Seed = 0) -> Response:
        need_conditional()
        if "application/json" in request.headers.get("accept", ""):
            images = run(generate, generator, config, one_hot(torch.full((n,), digit), config.model.num_classes),
                         seed=seed)
            encoded = [base64.b64encode(png_bytes(image)).decode() for image in images]
            return JSONResponse({"digit": digit, "seed": seed, "images": encoded})
        return png(run(digit_grid, generator, config, digit, n, seed))

    @app.get("/api/interpolate", summary="label-space morph from one digit to another", response_class=Response,
             responses=image_png)
    def morph(start: Annotated[int, Query(alias="from", ge=0, le=9)], to: Digit,
              steps: Annotated[int, Query(ge=2, le=64)] = 10, styles: Annotated[int, Query(ge=1, le=8)] = 1,
              seed: Seed = 0) -> Response:
        need_conditional()
        return png(rows_picture(run(interpolate, generator, config, start, to, steps, "label", styles=styles,
                                    seed=seed)))

    @app.get("/api/mix", summary="one digit drawn with the label vector (1-t)·e_from + t·e_to",
             response_class=Response, responses=image_png)
    def mix(start: Annotated[int, Query(alias="from", ge=0, le=9)], to: Digit,
            t: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5, seed: Seed = 0) -> Response:
        need_conditional()
        label_vector = label_mix(start, to, t, config.model.num_classes)[None]
        return png(run(generate, generator, config, label_vector, seed=seed)[0], scale=4)

    @app.get("/api/clock", summary="the clock at HH:MM:SS, a fraction `fade` into the crossfade from the "
             "previous second", response_class=Response, responses=image_png)
    def clock(time: Annotated[str, Query(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")],
              fade: Annotated[float, Query(ge=0.0, le=1.0)] = 1.0, seed: Seed = 0) -> Response:
        need_conditional()
        label_vector = clock_label_vectors(parse_time(time), fade, config.model.num_classes)
        writer = sample_noise(1, config.model, torch.Generator().manual_seed(seed)).expand(6, -1)
        return png(clock_picture(run(generate, generator, config, label_vector, z=writer)))


def serve(model: Path | None, host: str, port: int) -> None:
    import uvicorn

    app = create_app(model)
    uvicorn.run(app, host=host, port=port, log_level="warning")
