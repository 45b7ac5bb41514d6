"""A scriptable OpenAI-compatible server for tests and benchmarks (loopback only).

It streams a deterministic answer with injected time to first token and inter-token gaps, and
can inject faults by request number: 429 with Retry-After, 500, stalls, broken streams and
malformed events. In chat mode it can stream `reasoning_content` deltas before the answer, like
a reasoning model, and answer with scripted tool calls (streamed `tool_calls` deltas or whole).
It logs every request so tests can count what a client really sent, and (on
request) its own timing, so a benchmark can tell a late server from a late client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from assay.targets._openai import CONTINUATION_PROBE, TOOLS_PROBE

# "cut": [DONE] after the first token, with no finish_reason (llama-cpp-python's server does so
# to a stream when another request waits).
Fault = Literal["ok", "429", "500", "stall", "broken", "cut", "malformed", "content_filter", "400"]
Answer = Callable[[str], str]
# Given a chat request body, the tool calls to answer with as (name, arguments JSON) pairs;
# none: answer with text as usual.
ToolScript = Callable[[dict[str, Any]], Sequence[tuple[str, str]]]


def _default_answer(prompt: str) -> str:
    return "The answer is 42."


@dataclass
class StubConfig:
    model: str = "stub-model"
    answer: Answer = _default_answer
    ttft_s: float = 0.0
    itl_s: float = 0.0
    # Faults by request number (0-based, probes excluded); cycled if `cycle_faults`.
    faults: Sequence[Fault] = ()
    cycle_faults: bool = False
    retry_after_s: float = 0.05
    stall_s: float = 30.0
    logprobs: bool = True
    chat: bool = True
    completion: bool = True
    # Chat only: stream this many `reasoning_content` deltas before the answer (they take the
    # first places of the token schedule and count toward max_tokens and completion_tokens).
    reasoning_tokens: int = 0
    # Record request arrivals and how late each streamed delta left against its deadline.
    record_timings: bool = False
    # Chat only: scripted tool calls, streamed as OpenAI `tool_calls` deltas (the arguments in
    # pieces, finish_reason "tool_calls") or whole when not streaming.
    tool_calls: ToolScript | None = None
    # False: a chat request carrying `tools` gets HTTP 400, like a server without the tools API.
    tools: bool = True
    # Answer whole JSON even when the client asked for a stream (as some servers do).
    ignore_stream: bool = False
    # /completions with `echo` returns the prompt's tokens with logprobs (word tokens, each
    # -0.1 per character); False: HTTP 400, like hosted APIs that dropped `echo`.
    echo: bool = True
    # Report this many prompt tokens in every usage, whatever the prompt (as some proxies and
    # stubs do; 0 like those that fill usage with zeros); None: the prompt's word count.
    constant_prompt_tokens: int | None = None


@dataclass
class StubLog:
    requests: int = 0
    by_prompt: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    tools_probes: int = 0  # tool-calling probes answered (not counted in `requests`)
    continuation_probes: int = 0  # echo probes answered (not counted in `requests`)
    # With `record_timings`: perf_counter() at each request's arrival, and how many seconds
    # after its due time every streamed delta (and, separately, every first delta) was written.
    arrivals_s: list[float] = field(default_factory=list)
    token_lateness_s: list[float] = field(default_factory=list)
    first_token_lateness_s: list[float] = field(default_factory=list)
    # ... and how late the server's event loop ran a 5 ms timer: the server's own saturation.
    loop_lag_s: list[float] = field(default_factory=list)
    # Every request's Authorization header and query string ("" when absent), so a test can
    # tell that credentials given in a URL reached the server.
    authorization: Counter[str] = field(default_factory=Counter)
    query: Counter[str] = field(default_factory=Counter)


class StubServer:
    """Runs on its own thread and event loop; use as a context manager."""

    def __init__(self, config: StubConfig | None = None, *, port: int = 0) -> None:
        self.config = config or StubConfig()
        self.log = StubLog()
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._probe: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> StubServer:
        # Injected faults make aiohttp log handler errors by design; they are not news here.
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._record_credentials])
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        if self.config.record_timings:
            self._probe = asyncio.create_task(self._probe_loop())

    async def _probe_loop(self) -> None:
        while True:
            due = time.perf_counter() + 0.005
            await asyncio.sleep(0.005)
            self.log.loop_lag_s.append(time.perf_counter() - due)

    async def _stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _record_credentials(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.log.authorization[request.headers.get("Authorization", "")] += 1
        self.log.query[request.query_string] += 1
        return await handler(request)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.config.model, "object": "model"}]}
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        if not self.config.completion:
            return web.json_response({"error": "not found"}, status=404)
        body = await request.json()
        prompt = str(body.get("prompt", ""))
        if body.get("echo"):
            return self._echo(body, prompt)
        return await self._answer(request, body, prompt, chat=False, received=received)

    def _echo(self, body: dict[str, Any], prompt: str) -> web.Response:
        """The prompt's tokens with logprobs, then the generated ones (no faults injected)."""
        if prompt == "".join(CONTINUATION_PROBE):
            self.log.continuation_probes += 1
        else:
            self.log.requests += 1
            self.log.by_prompt[prompt] += 1
        if not self.config.echo:
            return web.json_response({"error": {"message": "echo is not supported"}}, status=400)
        generated = _tokens(self.config.answer(prompt))[: int(body.get("max_tokens") or 1)]
        tokens = _tokens(prompt) + generated
        offsets = [sum(len(t) for t in tokens[:i]) for i in range(len(tokens))]
        values: list[float | None] = [-0.1 * len(t) for t in tokens]
        values[0] = None  # no logprob for the first token, as servers answer
        logprobs = {
            "tokens": tokens,
            "token_logprobs": values,
            "top_logprobs": [None] + [{t: -0.1 * len(t)} for t in tokens[1:]],
            "text_offset": offsets,
        }
        whole = self._whole(body, generated, chat=False)
        whole["choices"][0].update(text=prompt + "".join(generated), logprobs=logprobs)
        return web.json_response(whole)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        if not self.config.chat:
            return web.json_response({"error": "not found"}, status=404)
        body = await request.json()
        if body.get("tools") and not self.config.tools:
            return web.json_response({"error": {"message": "tools not supported"}}, status=400)
        if _is_tools_probe(body):
            # Answered like a model that calls the tool it is asked to; not counted as work.
            self.log.tools_probes += 1
            whole = self._whole(body, [], True)
            function = {"name": TOOLS_PROBE, "arguments": "{}"}
            call = {"id": "probe", "type": "function", "function": function}
            whole["choices"][0]["message"].update(content=None, tool_calls=[call])
            return web.json_response(whole)
        prompt = str((body.get("messages") or [{}])[-1].get("content") or "")
        return await self._answer(request, body, prompt, chat=True, received=received)

    def _next_fault(self) -> Fault:
        number = self.log.requests
        self.log.requests += 1
        faults = self.config.faults
        if not faults:
            return "ok"
        if self.config.cycle_faults:
            return faults[number % len(faults)]
        return faults[number] if number < len(faults) else "ok"

    async def _answer(
        self,
        request: web.Request,
        body: dict[str, Any],
        prompt: str,
        *,
        chat: bool,
        received: float,
    ) -> web.StreamResponse:
        # Capability probes (one token of "Hello") are answered without faults or counting.
        if body.get("max_tokens") == 1 and prompt == "Hello":
            tokens = _tokens(self.config.answer(prompt))[:1]
            return web.json_response(self._whole(body, tokens, chat))
        if self.config.record_timings:
            self.log.arrivals_s.append(received)
        fault = self._next_fault()
        self.log.by_prompt[prompt] += 1
        if fault != "ok":
            self.log.faults[fault] += 1
        early = await self._early_fault(fault)
        if early is not None:
            return early
        calls = self.config.tool_calls(body) if chat and self.config.tool_calls else ()
        if calls:
            return await self._tool_answer(request, body, calls)
        thoughts = [f" thought{i}" for i in range(self.config.reasoning_tokens if chat else 0)]
        limit = int(body.get("max_tokens") or 10_000)
        thoughts = thoughts[:limit]
        tokens = _tokens(self.config.answer(prompt))[: limit - len(thoughts)]
        if not body.get("stream") or self.config.ignore_stream:
            return web.json_response(self._whole(body, tokens, chat, thoughts))
        return await self._stream(request, body, (thoughts, tokens), chat, fault, received)

    async def _early_fault(self, fault: Fault) -> web.Response | None:
        if fault == "429":
            return web.json_response(
                {"error": {"message": "slow down"}},
                status=429,
                headers={"Retry-After": str(self.config.retry_after_s)},
            )
        if fault == "500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if fault == "400":
            return web.json_response({"error": {"message": "bad request"}}, status=400)
        if fault == "content_filter":
            return web.json_response({"error": {"code": "content_filter"}}, status=400)
        if fault == "stall":
            await asyncio.sleep(self.config.stall_s)
        return None

    def _whole(
        self, body: dict[str, Any], tokens: list[str], chat: bool, thoughts: Sequence[str] = ()
    ) -> dict[str, Any]:
        text = "".join(tokens)
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
            if thoughts:
                choice["message"]["reasoning_content"] = "".join(thoughts)
        else:
            choice["text"] = text
            if body.get("logprobs") and self.config.logprobs:
                choice["logprobs"] = _completion_logprobs(tokens, int(body["logprobs"]))
        return {
            "id": "stub",
            "object": "text_completion",
            "model": self.config.model,
            "choices": [choice],
            "usage": self._usage(body, len(thoughts) + len(tokens)),
        }

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        parts: tuple[list[str], list[str]],
        chat: bool,
        fault: Fault,
        received: float,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        thoughts, answer = parts
        tokens = thoughts + answer
        lateness = self.log.token_lateness_s if self.config.record_timings else None
        for index, token in enumerate(tokens):
            # Absolute deadlines from the request's arrival, so the injected TTFT includes the
            # server's own handling and injected gaps do not accumulate scheduling error.
            due = received + self.config.ttft_s + index * self.config.itl_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if lateness is not None:
                lateness.append(time.perf_counter() - due)
                if index == 0:
                    self.log.first_token_lateness_s.append(lateness[-1])
            if fault == "broken" and index == max(1, len(tokens) // 2):
                assert request.transport is not None
                request.transport.close()
                raise ConnectionResetError("stub: stream broken on purpose")
            if fault == "malformed" and index == 1:
                await response.write(b"data: {not json\n\n")
                continue
            if fault == "cut" and index == 1:
                await response.write(b"data: [DONE]\n\n")
                await response.write_eof()
                return response
            reasoning = index < len(thoughts)
            await response.write(self._event(body, token, chat, reasoning=reasoning))
        final: dict[str, Any] = {
            "id": "stub",
            "model": self.config.model,
            "choices": [
                {"index": 0, "finish_reason": "stop", **({"delta": {}} if chat else {"text": ""})}
            ],
        }
        await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "stub", "choices": [], "usage": self._usage(body, len(tokens))}
            await response.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _tool_answer(
        self, request: web.Request, body: dict[str, Any], calls: Sequence[tuple[str, str]]
    ) -> web.StreamResponse:
        """Answer with tool calls: whole, or as deltas the way OpenAI streams them."""
        listed: list[dict[str, Any]] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(calls)
        ]
        if not body.get("stream") or self.config.ignore_stream:
            whole = self._whole(body, [], True)
            whole["choices"][0]["message"].update(content=None, tool_calls=listed)
            whole["choices"][0]["finish_reason"] = "tool_calls"
            return web.json_response(whole)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        deltas: list[dict[str, Any]] = []
        for index, call in enumerate(listed):
            function = call["function"]
            deltas.append({"index": index, **call, "function": {"name": function["name"]}})
            # Arguments in small pieces, as servers stream them token by token.
            arguments = function["arguments"]
            for start in range(0, len(arguments), 4):
                piece = arguments[start : start + 4]
                deltas.append({"index": index, "function": {"arguments": piece}})
        for delta in deltas:
            event = {"id": "stub", "choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]}
            await response.write(b"data: " + json.dumps(event).encode() + b"\n\n")
        final = {
            "id": "stub",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        }
        await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _usage(self, body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
        prompt = body.get("prompt") or json.dumps(body.get("messages"))
        prompt_tokens = self.config.constant_prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = len(str(prompt).split())
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _event(self, body: dict[str, Any], token: str, chat: bool, *, reasoning: bool) -> bytes:
        choice: dict[str, Any] = {"index": 0, "finish_reason": None}
        if chat:
            choice["delta"] = {"reasoning_content" if reasoning else "content": token}
        else:
            choice["text"] = token
            if body.get("logprobs") and self.config.logprobs:
                choice["logprobs"] = _completion_logprobs([token], int(body["logprobs"]))
        event = {
            "id": "stub",
            "object": "text_completion",
            "model": self.config.model,
            "choices": [choice],
        }
        return b"data: " + json.dumps(event).encode() + b"\n\n"


def _is_tools_probe(body: dict[str, Any]) -> bool:
    names = [(t.get("function") or {}).get("name") for t in body.get("tools") or ()]
    return names == [TOOLS_PROBE]


def _tokens(text: str) -> list[str]:
    """Split into word-ish tokens that join back to the text exactly."""
    pieces: list[str] = []
    for index, word in enumerate(text.split(" ")):
        pieces.append(word if index == 0 else " " + word)
    return [p for p in pieces if p]


def _completion_logprobs(tokens: list[str], top: int) -> dict[str, Any]:
    alternatives = [
        {token: -0.1, " A": -2.5, " B": -3.0, " C": -3.5, " D": -4.0} for token in tokens
    ]
    return {
        "tokens": tokens,
        "token_logprobs": [-0.1] * len(tokens),
        "top_logprobs": [dict(list(a.items())[:top]) for a in alternatives],
        "text_offset": [0] * len(tokens),
    }
