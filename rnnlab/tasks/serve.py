"""``rnnlab serve``: a trained model behind an HTTP JSON API (FastAPI + uvicorn), loaded once.

(No ``from __future__ import annotations`` here: FastAPI reads the request models from the annotations of
functions defined inside :func:`create_app`, which must stay objects, not strings.)

Endpoints (the OpenAPI page is ``/docs``):

- ``GET /health``: the task and the model's inputs;
- forecasting: ``POST /forecast`` (a history in, the horizon out) and the streaming pair
  ``POST /series/{id}/update`` (new points, O(1) each: one step of the carried state) and
  ``GET /series/{id}/forecast``;
- classification: ``POST /classify`` (texts in, labels and probabilities out);
- tagging: ``POST /tag`` (sentences in, a tag per word out);
- translation: ``POST /translate`` (sentences, beam size and number of candidates in; translations with their
  log-probabilities out);
- text: ``POST /generate`` (a prime, length, temperature, top-k/top-p, seed in; the sampled text streamed out as it
  is drawn, one token at a time).

Every request is validated (shapes, finite numbers, sizes): a bad one gets a 4xx with a one-line reason and the
server keeps serving. A body over ``max_body`` bytes is refused with 413 before it is read; at most
``max_concurrent`` requests compute at once (the rest wait their turn), and the model is shared read-only. The only
state kept between requests is each streamed series', under one lock.
"""

import itertools
import math
import threading
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError

MAX_BODY = 1_000_000  # bytes
MAX_SERIES = 10_000  # streamed series held at once


def checkpoint_task(path: str | Path) -> str:
    """The task a run folder's ``best.safetensors`` belongs to (read from its JSON header only)."""
    import json

    file = Path(path)
    file = file / "best.safetensors" if file.is_dir() else file
    if not file.is_file():
        raise RnnlabError(f"checkpoint not found: {file}")
    try:
        with open(file, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size < 100_000_000:
                raise ValueError("bad header size")
            header = json.loads(handle.read(size))
        return json.loads(header["__metadata__"]["rnnlab"])["task"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise RnnlabError(f"{file} is not a readable rnnlab checkpoint ({exc})") from None


def create_app(checkpoint: str | Path, *, max_body: int = MAX_BODY, max_concurrent: int = 4):
    """The FastAPI application serving the model of ``checkpoint`` (a run folder or its ``best.safetensors``)."""
    import numpy as np
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field

    task = checkpoint_task(checkpoint)
    folder = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    app = FastAPI(title=f"rnnlab {task}", description=f"the model of {folder}")
    gate = threading.BoundedSemaphore(max_concurrent)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return JSONResponse({"detail": f"the request body is over {max_body:,} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def one_line(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse({"detail": f"{where}: {first.get('msg')}" if where else first.get("msg")}, status_code=422)

    def guarded(function, *args):
        with gate:
            try:
                return function(*args)
            except RnnlabError as exc:
                raise HTTPException(status_code=422, detail=str(exc).splitlines()[0]) from None

    info: dict[str, Any] = {"task": task, "checkpoint": str(folder)}

    if task == "forecast":
        from rnnlab.models.forecaster import Forecaster

        model = Forecaster.load(folder / "best.safetensors" if folder.is_dir() else checkpoint)
        lookback = model.config.lookback
        info.update(horizon=model.config.horizon, lookback=lookback, targets=list(model.spec.targets),
                    covariates=list(model.spec.covariates))  # fmt: skip
        if model.spec.covariates or len(model.spec.targets) > 1:
            raise RnnlabError("serve takes forecasters of one series without covariates (this one reads "
                              f"{', '.join([*model.spec.targets, *model.spec.covariates])})")  # fmt: skip
        streams: dict[str, dict] = {}
        stream_lock = threading.Lock()

        class History(BaseModel):
            history: list[float] = Field(min_length=1, max_length=100_000, description="the series, oldest first")
            horizon: int | None = Field(default=None, ge=1, le=model.config.horizon)

        class Points(BaseModel):
            values: list[float] = Field(min_length=1, max_length=100_000)

        def frame_of(values: list[float]):
            import pandas as pd

            if not all(math.isfinite(v) for v in values):
                raise RnnlabError("the values must be finite numbers (no NaN or infinity)")
            return pd.DataFrame({model.spec.targets[0]: np.asarray(values, dtype=np.float64)})

        def forecast(body: History) -> dict:
            table = model.predict(frame_of(body.history), body.horizon)
            return {"forecast": table.iloc[:, -1].astype(float).tolist()}

        def update(series: str, body: Points) -> dict:
            values = frame_of(body.values)
            with stream_lock:
                if series not in streams:
                    if len(streams) >= MAX_SERIES:
                        raise RnnlabError(f"{MAX_SERIES:,} series are streamed already; no room for {series!r}")
                    model.start_stream(values)
                    streams[series] = model._stream
                    return {"series": series, "points": len(values), "started": True}
                model._stream = streams[series]
                model.update(values.iloc[:, 0].to_numpy())
                streams[series] = model._stream
                return {"series": series, "points": len(values), "started": False}

        def stream_forecast(series: str) -> dict:
            with stream_lock:
                if series not in streams:
                    detail = f"no series {series!r}: POST /series/{series}/update first"
                    raise HTTPException(status_code=404, detail=detail)
                model._stream = streams[series]
                values = np.asarray(model.forecast_stream()).reshape(model.config.horizon, -1)[:, 0]
                return {"series": series, "forecast": values.astype(float).tolist()}

        @app.post("/forecast")
        def post_forecast(body: History) -> dict:
            return guarded(forecast, body)

        @app.post("/series/{series}/update")
        def post_update(series: str, body: Points) -> dict:
            return guarded(update, series, body)

        @app.get("/series/{series}/forecast")
        def get_stream_forecast(series: str) -> dict:
            return guarded(stream_forecast, series)

    elif task == "classify":
        from rnnlab.models.classifier import TextClassifier

        model = TextClassifier.load(folder / "best.safetensors")
        info.update(classes=list(model.classes))

        class Texts(BaseModel):
            texts: list[str] = Field(min_length=1, max_length=1_000)

        def classify(body: Texts) -> dict:
            if any(not t.strip() for t in body.texts):
                raise RnnlabError("every text must hold at least one non-space character")
            probabilities = np.asarray(model.predict_proba(body.texts))
            return {"labels": [model.classes[k] for k in probabilities.argmax(1)],
                    "probabilities": [dict(zip(model.classes, map(float, row))) for row in probabilities]}  # fmt: skip

        @app.post("/classify")
        def post_classify(body: Texts) -> dict:
            return guarded(classify, body)

    elif task == "tag":
        from rnnlab.models.tagger import Tagger
        from rnnlab.tasks.tag import tokenize

        model = Tagger.load(folder / "best.safetensors")
        if model.vocab.numeric:
            raise RnnlabError("serve takes text taggers; this one tags numeric rows (use rnnlab tag predict)")
        info.update(tags=list(model.vocab.tags))

        class Sentences(BaseModel):
            sentences: list[str] = Field(min_length=1, max_length=1_000)
            pretokenized: bool = False

        def tag(body: Sentences) -> dict:
            words = [tokenize(s, body.pretokenized) for s in body.sentences]
            if any(not w for w in words):
                raise RnnlabError("every sentence must hold at least one word")
            return {"tagged": [[[w, t] for w, t in zip(ws, ts)] for ws, ts in zip(words, model.predict(words))]}

        @app.post("/tag")
        def post_tag(body: Sentences) -> dict:
            return guarded(tag, body)

    elif task == "text":
        from fastapi.responses import StreamingResponse

        from rnnlab.data.corpus import text_piece
        from rnnlab.sampling import sample_tokens
        from rnnlab.tasks.text import load_language_model

        model, vocab, level = load_language_model(folder / "best.safetensors")
        model.eval()
        info.update(level=level, vocabulary=len(vocab))

        class Prime(BaseModel):
            prime: str = Field(min_length=1, max_length=10_000)
            length: int = Field(default=200, ge=1, le=5_000)
            temperature: float = Field(default=0.8, gt=0, allow_inf_nan=False)
            top_k: int = Field(default=0, ge=0)
            top_p: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
            seed: int = Field(default=0, ge=0)

        def first_token(body: Prime):
            tokens = sample_tokens(model, vocab, level, body.prime, body.length, temperature=body.temperature,
                                   top_k=body.top_k, top_p=body.top_p, seed=body.seed)  # fmt: skip
            return next(tokens), tokens  # the prime is checked here, before anything is streamed

        @app.post("/generate")
        def post_generate(body: Prime):
            first, rest = guarded(first_token, body)

            def pieces():
                previous = body.prime.split()[-1] if level == "word" and body.prime.split() else body.prime[-1]
                for token in itertools.chain([first], rest):
                    yield text_piece(previous, token, level)
                    previous = token

            return StreamingResponse(pieces(), media_type="text/plain; charset=utf-8")

    elif task == "translate":
        from rnnlab.models.translator import Translator

        model = Translator.load(folder / "best.safetensors")
        info.update(level=model.tokenizer.level, cell=model.model.config.cell)

        class Sentences(BaseModel):
            sentences: list[str] = Field(min_length=1, max_length=1_000)
            beam: int = Field(default=5, ge=1, le=50, description="1: greedy decoding")
            n_best: int = Field(default=1, ge=1, le=50, description="candidates per sentence, at most the beam")

        def translate(body: Sentences) -> dict:
            if body.n_best > body.beam:
                raise RnnlabError(f"n_best ({body.n_best}) cannot exceed the beam ({body.beam})")
            results = model.translate(body.sentences, beam=body.beam, n_best=body.n_best, strict=True)
            return {"translations": [[{"text": t.text, "score": float(t.score), "finished": t.finished}
                                      for t in candidates] for candidates in results]}  # fmt: skip

        @app.post("/translate")
        def post_translate(body: Sentences) -> dict:
            return guarded(translate, body)

    else:
        raise RnnlabError(f"serve takes forecast, classify, tag, text and translate checkpoints; {folder} is a "
                          f"'{task}' checkpoint")  # fmt: skip

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", **info}

    return app


def serve(checkpoint: str, host: str = "127.0.0.1", port: int = 8000, workers_limit: int = 4) -> None:
    import uvicorn

    app = create_app(checkpoint, max_concurrent=workers_limit)
    print(f"serving {checkpoint} on http://{host}:{port} (OpenAPI page: /docs; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
