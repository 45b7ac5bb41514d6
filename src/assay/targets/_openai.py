"""Any OpenAI-compatible server: chat and raw completions, streamed with per-chunk arrival times.

Works with vLLM, SGLang, llama.cpp server, Ollama and hosted APIs. The API key is read from
ASSAY_API_KEY or OPENAI_API_KEY, sent only in the Authorization header and never recorded.
Credentials in the URL itself (`https://user:pass@host/v1` is sent as HTTP Basic auth, in place
of the key; `?api-key=...` and other query parameters go with every request) are used the same
way and appear only redacted in the target's spec and in messages.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit, urlunsplit

import aiohttp

from assay._errors import (
    ErrorClass,
    RateLimited,
    Refused,
    TargetError,
    TargetUnavailable,
    Timeout,
)
from assay._redact import redact
from assay.core import (
    Capabilities,
    Request,
    Response,
    Timings,
    TokenLogprob,
    ToolCall,
    ToolDef,
    Usage,
)

API_KEY_ENV = ("ASSAY_API_KEY", "OPENAI_API_KEY")
# The tool offered by the capability probe (the stub server recognises it).
TOOLS_PROBE = "assay_probe"
# The continuation probe scores " blue" after "The sky is" by `echo`.
CONTINUATION_PROBE = ("The sky is", " blue")


@dataclass(frozen=True)
class HttpLimits:
    connect_timeout_s: float = 10.0
    # A stream that delivers nothing for this long is a stall: classified as a timeout.
    read_timeout_s: float = 120.0
    total_timeout_s: float = 900.0


def normalise_base_url(base_url: str) -> str:
    """Without trailing slashes, /v1 when there is no path; a query string stays at the end."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_port(parts):
        raise TargetUnavailable(
            f"{redact(base_url)}: not an http(s) URL; write openai:http://host:port/v1[#model]"
        )
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def api_key_from_env() -> str | None:
    for name in API_KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


class OpenAITarget:
    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        limits: HttpLimits | None = None,
        max_concurrency: int = 256,
        api_key: str | None = None,
        tools: bool | None = None,
    ) -> None:
        self._given_url = normalise_base_url(base_url)
        parts = urlsplit(self._given_url)
        # Requests go to the URL without its user-info and query, which travel as Basic auth
        # and as parameters: so every URL in a message or a stored error is free of them.
        self._base_url = urlunsplit((parts.scheme, _host_port(parts), parts.path, "", ""))
        self._params = parse_qsl(parts.query, keep_blank_values=True) or None
        self._basic_auth = (
            aiohttp.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
            if parts.username is not None
            else None
        )
        # None: probed at start. A server that accepts `tools` but ignores them cannot be told
        # from a model that chose not to call; pass tools=False for such a server.
        self._tools = tools
        self._probe_tools_wanted = True
        self._probe_continuation_wanted = False
        self._api_key = api_key
        self._model = model or ""
        # Fixed from here on (a model found at start is not part of it); the engine reads it
        # for every request's cache key, so it is redacted once.
        self._spec = f"openai:{redact(self._given_url)}" + (f"#{model}" if model else "")
        self._limits = limits or HttpLimits()
        self._max_concurrency = max_concurrency
        self._capabilities = Capabilities()
        self._session: aiohttp.ClientSession | None = None
        self._tokenize_url: str | None = None

    @property
    def spec(self) -> str:
        """The identity written to the store: the URL with its credentials redacted."""
        return self._spec

    @property
    def model(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        """The URL as given (credentials included), to build the same target elsewhere."""
        return self._given_url

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        headers = {"Content-Type": "application/json"}
        key = self._api_key if self._api_key is not None else api_key_from_env()
        if key and self._basic_auth is None:  # aiohttp sends one Authorization header
            headers["Authorization"] = f"Bearer {key}"
        timeout = aiohttp.ClientTimeout(
            total=self._limits.total_timeout_s,
            sock_connect=self._limits.connect_timeout_s,
            sock_read=self._limits.read_timeout_s,
        )
        connector = aiohttp.TCPConnector(limit=self._max_concurrency, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=timeout, connector=connector, auth=self._basic_auth
        )
        try:
            if not self._model:
                self._model = await self._first_model()
            self._capabilities = await self._probe()
        except BaseException:
            await self.close()  # nobody closes a target whose start failed
            raise

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _first_model(self) -> str:
        url = f"{self._base_url}/models"
        body = await self._get_json(url)
        models = body.get("data") if isinstance(body, dict) else None
        if not models or not isinstance(models, list) or "id" not in models[0]:
            raise TargetUnavailable(f"{url}: lists no model; name one as openai:<url>#<model>")
        return str(models[0]["id"])

    async def _get_json(self, url: str) -> Any:
        assert self._session is not None
        try:
            async with self._session.get(url, params=self._params) as resp:
                if resp.status in (401, 403):
                    raise TargetUnavailable(
                        f"{url}: HTTP {resp.status}, the API key was refused; set ASSAY_API_KEY"
                    )
                if resp.status >= 400:
                    raise TargetUnavailable(
                        f"{url}: HTTP {resp.status}; check the base URL (it usually ends in /v1)"
                    )
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise TargetUnavailable(
                f"{url}: cannot reach the server ({type(exc).__name__}); is it running?"
            ) from None

    async def _probe(self) -> Capabilities:
        """One tiny request per mode tells what the server offers; recorded in the manifest."""
        probe_completion = await self._probe_once("completions", {"prompt": "Hello", "logprobs": 1})
        probe_chat = await self._probe_once(
            "chat/completions", {"messages": [{"role": "user", "content": "Hello"}]}
        )
        if probe_completion is None and probe_chat is None:
            raise TargetUnavailable(
                f"{self._base_url}: neither /completions nor /chat/completions answered "
                f"for model {self._model!r}; check the URL and the model name"
            )
        logprobs = bool(
            probe_completion and (probe_completion.get("choices") or [{}])[0].get("logprobs")
        )
        tools = self._tools
        if tools is None and self._probe_tools_wanted:
            tools = probe_chat is not None and await self._probe_tools()
        continuation = None
        if self._probe_continuation_wanted:
            continuation = logprobs and await self._probe_continuation()
        return Capabilities(
            chat=probe_chat is not None,
            completion=probe_completion is not None,
            logprobs=logprobs,
            streaming=True,
            tools=tools,
            continuation=continuation,
        )

    def plan_probes(self, *, tools: bool, continuation: bool) -> None:
        """Before `start()`: which optional probes the planned tasks need. Tool calling (a
        generation of up to 48 tokens) is probed unless told otherwise; continuation scoring
        (one echo request) only when asked. An unprobed capability reads None."""
        self._probe_tools_wanted = tools
        self._probe_continuation_wanted = continuation

    async def _probe_continuation(self) -> bool:
        """Whether `/completions` with `echo` returns a logprob for each token of the prompt,
        as scoring a continuation needs (many hosted APIs refuse `echo` or drop prompt
        logprobs: their tasks then fall back to generation or stop in one line)."""
        context, text = CONTINUATION_PROBE[0], "".join(CONTINUATION_PROBE)
        probe = await self._probe_once("completions", {"prompt": text, "echo": True, "logprobs": 1})
        try:
            _echoed_continuation(probe, len(context), len(text), url=self._base_url)
        except (TargetError, TypeError, ValueError):
            return False
        return True

    async def _probe_tools(self) -> bool:
        """Tools count as offered only when the model really calls one when asked to.

        Being accepted is not enough: some servers (llama-cpp-python with most chat formats)
        take `tools` and ignore them, and a tools-API run there would score every model zero.
        A false "no" costs little: tool tasks fall back to the text protocol.
        """
        tool = ToolDef(TOOLS_PROBE, "Checks the connection.", {"type": "object", "properties": {}})
        ask = {"role": "user", "content": f"Call the {TOOLS_PROBE} tool now."}
        probe = await self._probe_once(
            "chat/completions", {"messages": [ask], "tools": [tool.as_dict()], "max_tokens": 48}
        )
        choice = ((probe or {}).get("choices") or [{}])[0]
        return bool((choice.get("message") or {}).get("tool_calls"))

    async def _probe_once(self, path: str, extra: dict[str, Any]) -> dict[str, Any] | None:
        assert self._session is not None
        url = f"{self._base_url}/{path}"
        body = {"model": self._model, "max_tokens": 1, "temperature": 0.0, **extra}
        for attempt in range(4):
            try:
                async with self._session.post(url, json=body, params=self._params) as resp:
                    if resp.status in (401, 403):
                        raise TargetUnavailable(
                            f"{url}: HTTP {resp.status}, the API key was refused; set ASSAY_API_KEY"
                        )
                    if resp.status == 429 or resp.status >= 500:
                        await asyncio.sleep(0.2 * 2**attempt)
                        continue
                    if resp.status >= 400:
                        return None
                    parsed = await resp.json(content_type=None)
                    return parsed if isinstance(parsed, dict) else None
            except aiohttp.ClientConnectorError as exc:
                # Nothing listens there: retrying only delays the one line the user needs.
                raise TargetUnavailable(
                    f"{url}: cannot reach the server ({type(exc).__name__}); is it running?"
                ) from None
            except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
                await asyncio.sleep(0.2 * 2**attempt)
        return None

    async def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` by the server's own tokenizer, when it exposes one.

        llama-cpp-python serves POST /extras/tokenize, llama.cpp's server POST /tokenize; other
        servers have neither, and callers fall back to server-reported usage.
        """
        assert self._session is not None
        root = self._base_url.removesuffix("/v1")
        candidates = (
            (f"{self._base_url}/extras/tokenize", {"input": text, "model": self._model}),
            (f"{root}/extras/tokenize", {"input": text, "model": self._model}),
            (f"{root}/tokenize", {"content": text, "add_special": True}),
        )
        for url, body in candidates:
            if self._tokenize_url not in (None, url):
                continue
            try:
                async with self._session.post(url, json=body, params=self._params) as resp:
                    if resp.status != 200:
                        continue
                    tokens = (await resp.json(content_type=None)).get("tokens")
            except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError, AttributeError):
                continue
            if isinstance(tokens, list):
                self._tokenize_url = url
                return len(tokens)
        self._tokenize_url = ""  # none works: do not ask again
        return None

    # -- requests --------------------------------------------------------------------------

    def _body(self, request: Request) -> tuple[str, dict[str, Any]]:
        config = request.config
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if config.top_p is not None:
            body["top_p"] = config.top_p
        if config.stop:
            body["stop"] = list(config.stop)
        if config.seed is not None:
            body["seed"] = config.seed
        if config.repeat_penalty is not None:
            # llama.cpp's name and vLLM's; not in the OpenAI API, which rejects both.
            body["repeat_penalty"] = body["repetition_penalty"] = config.repeat_penalty
        if config.ignore_eos:
            # vLLM/SGLang/llama.cpp names; servers that do not know them ignore or reject them.
            body["ignore_eos"] = True
            body["min_tokens"] = config.max_tokens
        if request.mode == "chat":
            body["messages"] = [m.as_dict() for m in request.messages]
            if config.tools:
                body["tools"] = [tool.as_dict() for tool in config.tools]
            if config.top_logprobs is not None:
                body["logprobs"] = True
                body["top_logprobs"] = config.top_logprobs
            return "chat/completions", body
        body["prompt"] = request.prompt
        if config.top_logprobs is not None:
            body["logprobs"] = config.top_logprobs
        return "completions", body

    async def send(self, request: Request) -> Response:
        if self._session is None:
            raise TargetError("target not started", error_class=ErrorClass.CONNECTION)
        if request.config.continuation is not None:
            return await self._likelihood(request, request.config.continuation)
        path, body = self._body(request)
        url = f"{self._base_url}/{path}"
        started = time.perf_counter()
        try:
            async with self._session.post(url, json=body, params=self._params) as resp:
                if resp.status >= 400:
                    raise await _http_error(resp)
                stream = _StreamState(started, chat=request.mode == "chat")
                if resp.content_type == "application/json":
                    # Some servers answer whole despite stream=true (e.g. with tools): same parse.
                    stream.whole(await resp.read())
                    return stream.finish(resp.status)
                # Read whatever arrived and split lines here: one await per network read,
                # not one per line, which is most of a client's cost at high request rates.
                pending = b""
                async for chunk in resp.content.iter_any():
                    *lines, pending = (pending + chunk).split(b"\n")
                    if any(stream.feed(line) for line in lines):
                        break
                else:
                    stream.feed(pending)
                return stream.finish(resp.status)
        except TargetError:
            raise
        except TimeoutError:
            raise Timeout(f"{url}: no data for {self._limits.read_timeout_s:g}s") from None
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
            raise TargetError(
                f"{url}: stream broken ({type(exc).__name__})",
                error_class=ErrorClass.STREAM_BROKEN,
            ) from None
        except aiohttp.ClientError as exc:
            raise TargetError(
                f"{url}: {type(exc).__name__}", error_class=ErrorClass.CONNECTION
            ) from None

    async def _likelihood(self, request: Request, continuation: str) -> Response:
        """Log-probability of `continuation` after the prompt, by `/completions` with `echo`.

        The server scores prompt + continuation as one text and echoes every token's logprob;
        one token is generated (llama-cpp-python reads max_tokens 0 as "no limit") and dropped.
        """
        if request.mode != "completion":
            raise TargetError(
                "scoring a continuation needs a completion-mode request, not chat",
                error_class=ErrorClass.MALFORMED,
            )
        assert self._session is not None
        url = f"{self._base_url}/completions"
        text = request.prompt + continuation
        body: dict[str, Any] = {
            "model": self._model,
            "prompt": text,
            "max_tokens": 1,
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
        }
        started = time.perf_counter()
        try:
            async with self._session.post(url, json=body, params=self._params) as resp:
                if resp.status >= 400:
                    raise await _http_error(resp)
                status = resp.status
                answer = await resp.json(content_type=None)
        except TimeoutError:
            raise Timeout(f"{url}: no answer for {self._limits.read_timeout_s:g}s") from None
        except (aiohttp.ClientError, json.JSONDecodeError) as exc:
            raise TargetError(
                f"{url}: {type(exc).__name__}", error_class=ErrorClass.CONNECTION
            ) from None
        scored, usage = _echoed_continuation(answer, len(request.prompt), len(text), url=url)
        return Response(
            text="",
            finish_reason="stop",
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=0,
                source="server" if usage else "none",
            ),
            timings=Timings(e2e_s=time.perf_counter() - started),
            logprobs=tuple(scored),
            http_status=status,
        )


def _echoed_continuation(
    answer: Any, context_chars: int, total_chars: int, *, url: str
) -> tuple[list[TokenLogprob], dict[str, Any]]:
    """The continuation's token logprobs and the usage, from an `echo` completion's answer."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else {}
    logprobs = first.get("logprobs") if isinstance(first, dict) else None
    usage = answer.get("usage") if isinstance(answer, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    if not isinstance(logprobs, dict):
        raise TargetError(
            f"{url}: the echo answer has no logprobs; this server cannot score continuations",
            error_class=ErrorClass.MALFORMED,
        )
    scored = continuation_logprobs(
        logprobs, context_chars, total_chars, generated=usage.get("completion_tokens")
    )
    return scored, usage


def continuation_logprobs(
    logprobs: dict[str, Any], context_chars: int, total_chars: int, *, generated: Any = None
) -> list[TokenLogprob]:
    """The echoed tokens that carry continuation text, from an `echo` completion's logprobs.

    A token belongs to the continuation when its text ends after the context's last character,
    so a token straddling the boundary counts (it carries continuation text); the `generated`
    trailing tokens, and any token starting at or after the text's end, are not scored.
    """
    tokens = logprobs.get("tokens") or []
    offsets = logprobs.get("text_offset") or []
    values = logprobs.get("token_logprobs") or []
    tops = logprobs.get("top_logprobs") or []
    if not (len(tokens) == len(offsets) == len(values)):
        raise TargetError(
            "the echo answer lacks a text_offset or token_logprob per token; "
            "this server cannot score continuations",
            error_class=ErrorClass.MALFORMED,
        )
    echoed = len(tokens) - generated if isinstance(generated, int) and generated > 0 else None
    picked = []
    for index, token in enumerate(tokens[:echoed]):
        start = int(offsets[index])
        end = int(offsets[index + 1]) if index + 1 < len(tokens) else start + len(token)
        if start >= total_chars:
            break
        if end <= context_chars:
            continue
        if values[index] is None:
            raise TargetError(
                f"the echo answer gives no logprob for continuation token {index} ({token!r})",
                error_class=ErrorClass.MALFORMED,
            )
        top = tops[index] if index < len(tops) and isinstance(tops[index], dict) else {}
        best = max(top.items(), key=lambda item: float(item[1])) if top else None
        picked.append(
            TokenLogprob(
                token=str(token),
                logprob=float(values[index]),
                top=((str(best[0]), float(best[1])),) if best else (),
            )
        )
    if not picked:
        raise TargetError(
            "no echoed token falls in the continuation; give a non-empty continuation",
            error_class=ErrorClass.MALFORMED,
        )
    return picked


async def _http_error(resp: aiohttp.ClientResponse) -> TargetError:
    text = redact((await resp.text())[:300])  # a server may echo the request's URL
    status = resp.status
    if status == 429:
        return RateLimited(
            f"HTTP 429: {text}",
            status=status,
            retry_after_s=parse_retry_after(resp.headers.get("Retry-After")),
        )
    if "content_filter" in text or "content_policy" in text:
        return Refused(f"HTTP {status}: {text}", status=status)
    error_class = ErrorClass.HTTP_5XX if status >= 500 else ErrorClass.HTTP_4XX
    return TargetError(
        f"HTTP {status}: {text}",
        error_class=error_class,
        status=status,
        retry_after_s=parse_retry_after(resp.headers.get("Retry-After")),
    )


def _valid_port(parts: SplitResult) -> bool:
    try:
        _ = parts.port  # parsed on access
    except ValueError:  # not a number, or out of range
        return False
    return True


def _host_port(parts: SplitResult) -> str:
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port}" if parts.port is not None else str(host)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110).

    None when absent or unreadable, so the executor falls back to its own backoff.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" in the date: RFC 5322 says UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _StreamState:
    """Accumulates one server-sent-events stream and the arrival time of every content chunk."""

    def __init__(self, started: float, *, chat: bool) -> None:
        self.started = started
        self.chat = chat
        self.parts: list[str] = []
        self.reasoning: list[str] = []
        self.first_answer: float | None = None
        self.token_times: list[float] = []
        self.logprobs: list[TokenLogprob] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.done = False
        self.streamed = True
        # Tool calls by their `index`: streamed as an id and name, then arguments in pieces.
        self.tool_calls: dict[int, dict[str, str]] = {}

    def whole(self, body: bytes) -> None:
        """Consume a non-streamed answer (`message` in place of `delta`)."""
        self.feed(b"data: " + body.replace(b"\n", b" "))
        self.done = True
        self.streamed = False

    def feed(self, raw_line: bytes) -> bool:
        """Consume one line; True once the stream said [DONE]."""
        line = raw_line.strip()
        if not line.startswith(b"data:"):
            return False
        data = line[5:].strip()
        if data == b"[DONE]":
            self.done = True
            return True
        now = time.perf_counter() - self.started
        try:
            event = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise TargetError(
                f"malformed stream event: {data[:120]!r}", error_class=ErrorClass.MALFORMED
            ) from None
        if not isinstance(event, dict):
            raise TargetError("malformed stream event", error_class=ErrorClass.MALFORMED)
        if "error" in event:
            raise TargetError(
                f"server error in stream: {str(event['error'])[:200]}",
                error_class=ErrorClass.STREAM_BROKEN,
            )
        if event.get("usage"):
            self.usage = event["usage"]
        for choice in event.get("choices") or ():
            self._choice(choice, now)
        return False

    def _choice(self, choice: dict[str, Any], now: float) -> None:
        delta = choice.get("delta") or choice.get("message") or {}
        text = delta.get("content") if self.chat else choice.get("text")
        # Reasoning models stream their thinking separately (vLLM/SGLang/DeepSeek spellings).
        thought = delta.get("reasoning_content") or delta.get("reasoning") if self.chat else None
        if thought:
            self.reasoning.append(thought)
            self.token_times.append(now)
        if text:
            self.parts.append(text)
            self.token_times.append(now)
            if self.first_answer is None:
                self.first_answer = now
        if self.chat and delta.get("tool_calls"):
            self._tool_deltas(delta["tool_calls"])
            self.token_times.append(now)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        logprobs = choice.get("logprobs")
        if logprobs:
            self.logprobs.extend(_parse_logprobs(logprobs))

    def _tool_deltas(self, deltas: list[dict[str, Any]]) -> None:
        for position, delta in enumerate(deltas):
            # Non-streamed calls carry no index: their position is it.
            call = self.tool_calls.setdefault(
                int(delta.get("index", position)), {"id": "", "name": "", "arguments": ""}
            )
            function = delta.get("function") or {}
            call["id"] = delta.get("id") or call["id"]
            call["name"] = function.get("name") or call["name"]
            call["arguments"] += function.get("arguments") or ""

    def finish(self, status: int) -> Response:
        if not self.done and self.finish_reason is None:
            raise TargetError(
                "stream ended before [DONE]", error_class=ErrorClass.STREAM_BROKEN, status=status
            )
        if self.streamed and self.finish_reason is None:
            # Every choice ends with a finish_reason. llama-cpp-python's server ends a stream
            # with [DONE] alone when another request waits for the model (interrupt_requests,
            # on by default): the answer is cut, whatever its length, and must not be scored.
            raise TargetError(
                f"stream said [DONE] without a finish_reason after {len(self.token_times)} "
                "chunks: the server cut it (llama-cpp-python does when another request waits; "
                "serve the model with `assay model serve`, which queues requests, or start it "
                "with --interrupt_requests False, or run with --concurrency 1)",
                error_class=ErrorClass.STREAM_BROKEN,
                status=status,
            )
        if self.finish_reason == "content_filter":
            raise Refused("content filter")
        e2e = time.perf_counter() - self.started
        return Response(
            text="".join(self.parts),
            finish_reason=self.finish_reason,
            usage=self._usage(),
            timings=Timings(
                ttft_s=self.token_times[0] if self.token_times else None,
                token_times_s=tuple(self.token_times),
                e2e_s=e2e,
                ttfat_s=self.first_answer,
            ),
            reasoning="".join(self.reasoning),
            logprobs=tuple(self.logprobs) if self.logprobs else None,
            http_status=status,
            tool_calls=tuple(
                ToolCall(call["id"] or f"call_{index}", call["name"], call["arguments"])
                for index, call in sorted(self.tool_calls.items())
            ),
        )

    def _usage(self) -> Usage:
        if self.usage:
            return Usage(
                prompt_tokens=self.usage.get("prompt_tokens"),
                completion_tokens=self.usage.get("completion_tokens"),
                source="server",
                client_chunks=len(self.token_times),
            )
        # Without server usage, count streamed chunks (one per token on most servers).
        chunks = len(self.token_times)
        return Usage(completion_tokens=chunks, source="client", client_chunks=chunks)


def _parse_logprobs(logprobs: dict[str, Any]) -> list[TokenLogprob]:
    if "content" in logprobs:  # chat format
        return [
            TokenLogprob(
                token=item.get("token", ""),
                logprob=float(item.get("logprob", float("-inf"))),
                top=tuple(
                    (alt.get("token", ""), float(alt.get("logprob", float("-inf"))))
                    for alt in item.get("top_logprobs") or ()
                ),
            )
            for item in logprobs.get("content") or ()
        ]
    tokens = logprobs.get("tokens") or []
    values = logprobs.get("token_logprobs") or []
    tops = logprobs.get("top_logprobs") or []
    parsed = []
    for index, token in enumerate(tokens):
        value = values[index] if index < len(values) and values[index] is not None else -1e9
        top = tops[index] if index < len(tops) and tops[index] else {}
        parsed.append(
            TokenLogprob(
                token=token,
                logprob=float(value),
                top=tuple((str(k), float(v)) for k, v in top.items()),
            )
        )
    return parsed
