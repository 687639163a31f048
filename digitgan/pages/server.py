"""`digitgan serve`: a local web page and an HTTP API over one generator (FastAPI + uvicorn).

FastAPI gives typed query validation (422 with a message), an OpenAPI schema at /openapi.json, and an
in-process test client; uvicorn is its standard server. The model loads once; every request generates its
images in one batch, and a lock keeps concurrent requests from oversubscribing the CPU threads. No
parameter is ever used as a path: the only files read are the model's, chosen at start-up. A drawn digit comes
in as the body of POST /api/hand (size-limited) and goes back as a short code, the `hand` parameter of the
drawing operations.
"""

import base64
import errno
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from fastapi import Query
from pydantic import BaseModel, Field

from digitgan.drawing.hand import find_hand, hand_code, hand_code_length, hand_from_code
from digitgan.drawing.numbers import (
    SEPARATORS,
    clock_label_vectors,
    clock_picture,
    interpolate,
    parse_time,
    rows_picture,
    write_number,
    writer_noise,
)
from digitgan.drawing.sampling import digit_grid, generate, label_mix
from digitgan.errors import UserError
from digitgan.files import png_bytes
from digitgan.modelfolder.encoder import optional_encoder
from digitgan.modelfolder.evaluation import evaluation_summary, headline_metrics, read_report
from digitgan.modelfolder.folder import default_model_dir, find_model_dir, load_generator
from digitgan.models import one_hot
from digitgan.pages.page import served_page

MAX_QUERY = 512
MAX_UPLOAD = 2 * 2**20  # bytes of a drawn digit's picture (a canvas export is tens of kilobytes)
TEXT_PATTERN = r"^[0-9: \-]*[0-9][0-9: \-]*$"  # digits, ':', '-', space, at least one digit
TEXT_LENGTH = 32
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
PATTERN_MESSAGES = {"text": "text must be digits, ':', '-' or spaces, with at least one digit",
                    "time": "time must be HH:MM:SS, from 00:00:00 to 23:59:59",
                    "hand": "hand must be a code that POST /api/hand gave (base64url: A-Z, a-z, 0-9, '-', '_')"}
# FastAPI reads these annotations at run time, so they live at module level (no postponed evaluation here).
Digit = Annotated[int, Query(ge=0, le=9, description="a digit 0-9")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1, description="the noise's seed: the same seed, the same writer")]


class Health(BaseModel):
    status: str


class Evaluation(BaseModel):
    """The headline metrics of the model's evaluation report (digitgan/modelfolder/evaluation.py)."""
    n_per_class: int | None
    model: dict[str, float]
    real_floor: dict[str, float]


class Metric(BaseModel):
    key: str
    name: str
    higher_is_better: bool


class ModelInfo(BaseModel):
    preset: str
    step: int | None
    images_seen: int | None
    conditional: bool
    model: dict[str, Any] | None
    evaluation: Evaluation | None
    headline_metrics: list[Metric] = Field(description="how to show the evaluation's keys, in order")


class Samples(BaseModel):
    digit: int
    seed: int
    images: list[str] = Field(description="base64 PNGs, 28x28 grayscale")


class FoundHand(BaseModel):
    hand: str = Field(description="the hand (the noise that draws the digit): pass it as `hand` to write, "
                                  "interpolate, mix and clock")
    digit: int = Field(description="the digit the hand was found for")
    read_probability: float | None = Field(description="how sure the reference classifier was when it read the "
                                                       "digit; null when the request gave `digit`")
    loss: float = Field(description="the inversion's final loss (lower: a closer redrawing)")
    seconds: float = Field(description="time spent finding the hand")
    seen: str = Field(description="base64 PNG: the digit as the model saw it (MNIST-style: cropped, 20x20, "
                                  "centred) beside the generator's redrawing of it in the found hand")


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="where: ['query', NAME], ['query'] for the whole query, or ['body'] "
                                             "for the uploaded picture")
    msg: str = Field(description="what is wrong, for a person to read")
    type: str


class ErrorBody(BaseModel):
    """Every 4xx answer of the API has this body (FastAPI's validation-error shape)."""
    detail: list[ErrorItem]


def error_response(status: int, message: str, where: tuple[str, ...] = ("query",), kind: str = "value_error") -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"detail": [{"loc": list(where), "msg": message, "type": kind}]}, status_code=status)


class ApiError(Exception):
    """A request the API refuses after reading it: answered with `status` and an ErrorBody."""

    def __init__(self, status: int, message: str, where: tuple[str, ...] = ("query",)) -> None:
        super().__init__(message)
        self.status, self.message, self.where = status, message, where


ERRORS: dict[int | str, dict[str, Any]] = {
    414: {"model": ErrorBody, "description": f"the query is longer than {MAX_QUERY} characters"},
    422: {"model": ErrorBody, "description": "a parameter is missing, unknown or out of its range, or the model "
                                             "cannot draw what is asked (an unconditional model asked for a digit)"},
}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": f"the picture is larger than {MAX_UPLOAD:,} bytes"},
    422: {"model": ErrorBody, "description": "a parameter is out of its range, or the body is not a picture of a "
                                             "digit (unreadable, empty, no ink, all ink)"},
}
IMAGE = {200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
               "description": "a PNG picture"}}


def png(picture: np.ndarray, scale: int = 2) -> Any:
    from fastapi.responses import Response

    return Response(png_bytes(picture, scale), media_type="image/png")


def create_app(model: Path | None = None) -> Any:
    """The ASGI app for one model directory (default: the model shipped with digitgan)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse

    model_dir = find_model_dir(model) if model is not None else default_model_dir()
    generator, config, raw = load_generator(model_dir)
    report = read_report(model_dir)
    conditional = config.model.conditional

    app = FastAPI(title="digitgan", version="1", docs_url=None, redoc_url=None, responses=ERRORS,
                  description="Handwritten digits on demand from a class-conditional GAN. Every refused request "
                              "gets a 4xx answer with an ErrorBody: a list of {loc, msg, type}, msg readable.")

    @app.exception_handler(ApiError)
    async def refused(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.message, error.where)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, with only the fields ErrorBody documents (no echo of the input), and a sentence in
        # place of a regular expression where a pattern is not met
        items = []
        for item in error.errors():
            loc = [str(part) if not isinstance(part, int) else part for part in item.get("loc", ("query",))]
            kind = str(item.get("type", "value_error"))
            message = PATTERN_MESSAGES.get(str(loc[-1])) if kind == "string_pattern_mismatch" else None
            items.append({"loc": loc, "msg": message or str(item.get("msg", "invalid")), "type": kind})
        return JSONResponse({"detail": items}, status_code=422)

    @app.middleware("http")
    async def unknown_parameters(request: Request, call_next):  # noqa: ANN001, ANN202 - ASGI middleware
        # Checked before anything else: a misspelt parameter is refused (422), not silently ignored.
        allowed = known.get(request.url.path)
        if allowed is not None:
            unknown = sorted({name for name, _ in request.query_params.multi_items()} - allowed)
            if unknown:
                return error_response(422, f"unknown parameter '{unknown[0][:40]}'; this operation takes "
                                           f"{', '.join(sorted(allowed)) or 'none'}", ("query", unknown[0][:40]),
                                      "extra_forbidden")
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return served_page()

    @app.get("/api/health", summary="liveness", response_model=Health)
    def health(request: Request) -> Health:
        limit_query(request)
        return Health(status="ok")

    @app.get("/api/model", summary="the model's configuration and evaluation summary", response_model=ModelInfo)
    def model_info(request: Request) -> ModelInfo:
        limit_query(request)
        return ModelInfo(preset=config.preset, step=raw.get("step"), images_seen=raw.get("images_seen"),
                         conditional=conditional, model=raw.get("model"), evaluation=evaluation_summary(report),
                         headline_metrics=headline_metrics())

    add_drawing_routes(app, generator, config, optional_encoder(model_dir))
    known = {route.path: {param.alias for param in route.dependant.query_params}
             for route in app.routes if hasattr(route, "dependant")}
    return app


def limit_query(request: Any) -> None:
    """Refuse (414) a query over MAX_QUERY characters. Called first thing in every operation, i.e. after its
    parameters have been validated: an invalid request gets 422 whatever its length."""
    if len(request.url.query) > MAX_QUERY:
        raise ApiError(414, f"query longer than {MAX_QUERY} characters")


async def read_body(request: Any, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it passes `limit` bytes (a declared Content-Length over the
    limit is refused before anything is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the picture is {int(declared):,} bytes; at most {limit:,} are read", ("body",))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the picture is larger than {limit:,} bytes", ("body",))
        chunks.append(chunk)
    return b"".join(chunks)


def add_drawing_routes(app: Any, generator: torch.nn.Module, config: Any, encoder: torch.nn.Module | None) -> None:
    """The endpoints that draw: write, sample, interpolate, mix, clock, and hand (a drawn digit -> its hand). One
    model call at a time (a lock), so concurrent requests queue instead of oversubscribing the CPU threads.
    `encoder`: the model folder's hand encoder (its answer starts the search for a hand), or None."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    lock = threading.Lock()
    code_length = hand_code_length(config.model.z_dim)
    # every string of this length and alphabet is a valid hand (hand_code's units cover any z a model draws)
    Hand = Annotated[str | None, Query(pattern=f"^[A-Za-z0-9_-]{{{code_length}}}$", min_length=code_length,
                                       max_length=code_length,
                                       description="a hand from POST /api/hand: the first writer draws in it")]

    def run(function, *args, **kwargs):  # noqa: ANN001, ANN202 - serialises model calls
        try:
            with lock, torch.no_grad():
                return function(*args, **kwargs)
        except UserError as error:
            raise ApiError(422, str(error)) from None

    def start(request: Request) -> None:
        limit_query(request)
        if not config.model.conditional:
            raise ApiError(422, "this model is unconditional: it cannot draw chosen digits")

    @app.get("/api/write", summary="a number handwritten, one writer per row", response_class=Response,
             responses=IMAGE)
    def write(request: Request,
              text: Annotated[str, Query(pattern=TEXT_PATTERN, min_length=1, max_length=TEXT_LENGTH,
                                         description="digits, ':', '-', space; at least one digit")],
              styles: Annotated[int, Query(ge=1, le=16, description="writers, one row each")] = 1,
              seed: Seed = 0, hand: Hand = None) -> Response:
        start(request)
        if all(ch in SEPARATORS for ch in text):  # the pattern says so too; kept for callers that skip it
            raise ApiError(422, "text has no digit", ("query", "text"))
        writers = writer_noise(config, styles, seed, hand_from_code(hand, config.model.z_dim)) if hand else None
        return png(rows_picture(run(write_number, generator, config, text, styles=styles, seed=seed,
                                    writers=writers)))

    @app.get("/api/sample", summary="a grid of one digit (PNG, or JSON with base64 PNGs)", response_class=Response,
             responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                          "application/json": {"schema": Samples.model_json_schema()}},
                              "description": "a PNG grid; JSON with one base64 PNG per digit when the request "
                                             "accepts application/json"}})
    def sample(request: Request, digit: Digit,
               n: Annotated[int, Query(ge=1, le=256, description="how many")] = 16, seed: Seed = 0) -> Response:
        start(request)
        if "application/json" in request.headers.get("accept", ""):
            images = run(generate, generator, config, one_hot(torch.full((n,), digit), config.model.num_classes),
                         seed=seed)
            encoded = [base64.b64encode(png_bytes(image)).decode() for image in images]
            return JSONResponse(Samples(digit=digit, seed=seed, images=encoded).model_dump())
        return png(run(digit_grid, generator, config, digit, n, seed))

    @app.get("/api/interpolate", summary="label-space morph from one digit to another", response_class=Response,
             responses=IMAGE)
    def morph(request: Request, start_digit: Annotated[int, Query(alias="from", ge=0, le=9, description="a digit 0-9")],
              to: Digit, steps: Annotated[int, Query(ge=2, le=64, description="frames")] = 10,
              styles: Annotated[int, Query(ge=1, le=8, description="writers, one row each")] = 1,
              seed: Seed = 0, hand: Hand = None) -> Response:
        start(request)
        writers = writer_noise(config, styles, seed, hand_from_code(hand, config.model.z_dim)) if hand else None
        return png(rows_picture(run(interpolate, generator, config, start_digit, to, steps, "label", styles=styles,
                                    seed=seed, writers=writers)))

    @app.get("/api/mix", summary="one digit drawn with the label vector (1-t)·e_from + t·e_to",
             response_class=Response, responses=IMAGE)
    def mix(request: Request, start_digit: Annotated[int, Query(alias="from", ge=0, le=9, description="a digit 0-9")],
            to: Digit, t: Annotated[float, Query(ge=0.0, le=1.0, description="how far towards `to`")] = 0.5,
            seed: Seed = 0, hand: Hand = None) -> Response:
        start(request)
        label_vector = label_mix(start_digit, to, t, config.model.num_classes)[None]
        writer = writer_noise(config, 1, seed, hand_from_code(hand, config.model.z_dim) if hand else None)
        return png(run(generate, generator, config, label_vector, z=writer)[0], scale=4)

    @app.get("/api/clock", summary="the clock at HH:MM:SS, a fraction `fade` into the crossfade from the "
             "previous second", response_class=Response, responses=IMAGE)
    def clock(request: Request, time: Annotated[str, Query(pattern=TIME_PATTERN, description="HH:MM:SS")],
              fade: Annotated[float, Query(ge=0.0, le=1.0, description="0: the previous second, 1: this one")] = 1.0,
              seed: Seed = 0, hand: Hand = None) -> Response:
        start(request)
        label_vector = clock_label_vectors(parse_time(time), fade, config.model.num_classes)
        writer = writer_noise(config, 1, seed, hand_from_code(hand, config.model.z_dim) if hand else None)
        return png(clock_picture(run(generate, generator, config, label_vector, z=writer.expand(6, -1))))

    @app.post("/api/hand", summary="your hand: the noise that makes the generator draw your digit (POST the "
              "picture of one drawn digit as the body)", response_model=FoundHand,
              responses=UPLOAD_ERRORS,
              openapi_extra={"requestBody": {
                  "required": True, "description": f"one drawn digit: a PNG (or JPEG), at most {MAX_UPLOAD:,} "
                                                   "bytes, dark on light or light on dark",
                  "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
    async def hand(request: Request,
                   digit: Annotated[int | None, Query(ge=0, le=9, description="which digit it is (default: read "
                                                                              "by the reference classifier)")] = None,
                   seed: Seed = 0) -> FoundHand:
        start(request)
        picture = await read_body(request, MAX_UPLOAD)
        if not picture:
            raise ApiError(422, "the body is empty: POST the picture of one drawn digit (PNG)", ("body",))
        try:
            found = await run_in_threadpool(run, find_hand, generator, config, picture, digit, encoder=encoder,
                                            seed=seed)
        except ApiError as error:  # the picture is what was wrong
            raise ApiError(error.status, error.message, ("body",)) from None
        redrawn = run(generate, generator, config, one_hot(torch.tensor([found.digit]), config.model.num_classes),
                      z=found.z)
        seen = png_bytes(rows_picture(np.stack([found.preprocessed, redrawn[0]])[None]), 4)
        return FoundHand(hand=hand_code(found.z), digit=found.digit,
                         read_probability=None if found.probability is None else round(found.probability, 4),
                         loss=round(found.loss, 6), seconds=round(found.seconds, 3),
                         seen=base64.b64encode(seen).decode())


def api_markdown(schema: dict[str, Any]) -> str:
    """README's API table from the OpenAPI schema (`app.openapi()`): one row per operation, its answer, and its
    parameters with their limits."""
    def limits(param: dict[str, Any]) -> str:
        spec, parts = param.get("schema", {}), []
        if "anyOf" in spec:  # an optional parameter: its limits are those of the alternative that is not null
            spec = {**next(s for s in spec["anyOf"] if s.get("type") != "null"), "default": spec.get("default")}
        if "minimum" in spec and "maximum" in spec:
            parts.append("–".join(f"{v:,}" if float(v).is_integer() and isinstance(v, int) else f"{v:g}"
                                  for v in (spec["minimum"], spec["maximum"])))
        if "maxLength" in spec:
            low = spec.get("minLength", 0)
            parts.append(f"{low} characters" if low == spec["maxLength"] else f"{low}–{spec['maxLength']} characters")
        if "pattern" in spec and param["name"] not in PATTERN_MESSAGES:
            parts.append(f"pattern `{spec['pattern']}`")
        parts.append("required" if param.get("required") else "optional" if spec.get("default") is None
                     else f"default {spec.get('default')}")
        return f"`{param['name']}` ({', '.join(parts)})" + (f": {param['description']}" if "description" in param
                                                             else "")

    lines = ["| request | answer | parameters |", "|---|---|---|"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            ok = operation["responses"]["200"].get("content", {})
            kinds = " or ".join("PNG" if kind == "image/png" else "JSON" for kind in ok) or "JSON"
            params = "; ".join(limits(param) for param in operation.get("parameters", [])) or "none"
            codes = ", ".join(code for code in operation["responses"] if code != "200")
            lines.append(f"| `{method.upper()} {path}` | {operation.get('summary', '')} ({kinds}; else {codes}) | "
                         f"{params} |")
    return "\n".join(lines)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening; an address in use or not this machine's is a UserError.

    Bound here rather than by uvicorn, which logs such a failure and exits with its own code."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise UserError(f"cannot serve on {host}: {str(error.strerror).lower()}") from None
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart may bind at once
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        hint = "; another server holds it: pick another port" if error.errno == errno.EADDRINUSE else ""
        raise UserError(f"cannot serve on {host}:{port}: {(error.strerror or str(error)).lower()}{hint}") from None
    return sock


def serve(model: Path | None, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Load the model, listen on host:port, say the page's address (`announce`), then answer until Ctrl-C."""
    import uvicorn

    app = create_app(model)
    sock = listening_socket(host, port)
    announce(f"http://{host}:{port}/")
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
