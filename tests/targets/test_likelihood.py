"""Log-likelihood of a continuation: the in-process target and an OpenAI-compatible server agree
on the bundled model, the echo parsing splits context from continuation, and targets that cannot
score say so."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec
from assay._errors import ErrorClass, SpecError, TargetError
from assay.core import TokenLogprob
from assay.engine._cache import cache_key
from assay.engine._run import Runner
from assay.store import Store
from assay.targets import FakeTarget, FileTarget, GenerateConfig, Message, Request, Response
from assay.targets._llamacpp import LlamaCppTarget
from assay.targets._openai import OpenAITarget, continuation_logprobs
from assay.testing import StubConfig, StubServer

CONTEXT = "Q: What is the capital of France?\nA:"
PLAUSIBLE = " The capital of France is Paris."
IMPLAUSIBLE = " The capital of France is a banana."


def scoring(context: str, continuation: str) -> Request:
    config = GenerateConfig(max_tokens=1, continuation=continuation)
    return Request(mode="completion", config=config, prompt=context)


# -- the contract, without a model ------------------------------------------------------------


def run_on_stub(tmp_path: Path, stub: StubServer, tasks: tuple[str, ...]) -> dict[str, Any]:
    """Run `tasks` (2 items each; TruthfulQA from a two-question local copy) on the stub."""
    data = tmp_path / "data" / "truthfulqa" / "v1_817" / "mc_task.json"
    data.parent.mkdir(parents=True, exist_ok=True)
    sky = {"question": "What colour is the sky?", "mc1_targets": {"Blue.": 1, "Green.": 0}}
    legs = {"question": "How many legs has a spider?", "mc1_targets": {"Eight.": 1, "Six.": 0}}
    rows = [row | {"mc2_targets": row["mc1_targets"]} for row in (sky, legs)]
    data.write_text(json.dumps(rows))
    data_dir = str(tmp_path / "data")
    spec = RunSpec(target=f"openai:{stub.url}", suite=None, tasks=tasks, limit=2, data_dir=data_dir)
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    asyncio.run(Runner(spec, store, "r", target=OpenAITarget(stub.url), progress=False).run())
    run: dict[str, Any] = store.read_run("r").run
    return run


@pytest.mark.parametrize(
    ("tasks", "echo", "expected"),
    [
        (("arithmetic",), True, None),
        (("arithmetic", "truthfulqa_mc1"), True, True),
        (("truthfulqa_mc1",), False, False),
    ],
    ids=["not_planned", "echo", "no_echo"],
)
def test_continuation_scoring_is_probed_only_for_runs_that_plan_it(
    tmp_path: Path, tasks: tuple[str, ...], echo: bool, expected: bool | None
) -> None:
    with StubServer(StubConfig(echo=echo)) as stub:
        run = run_on_stub(tmp_path, stub, tasks)
    # None: not probed, and recorded so.
    assert run["capabilities"]["continuation"] is expected
    assert stub.log.continuation_probes == (0 if expected is None else 1)


def test_without_echo_mc1_asks_for_a_letter_and_mc2_stops_in_one_line(tmp_path: Path) -> None:
    with StubServer(StubConfig(echo=False, answer=lambda prompt: " A")) as stub:
        run_on_stub(tmp_path / "mc1", stub, ("truthfulqa_mc1",))
        # Two lettered questions, no likelihood request refused one by one.
        assert stub.log.requests == 2
        assert all("\nA. " in prompt for prompt in stub.log.by_prompt)
        with pytest.raises(SpecError, match=r"truthfulqa_mc2 needs .*continuation=False"):
            run_on_stub(tmp_path / "mc2", stub, ("truthfulqa_mc2",))


def test_with_echo_mc1_scores_each_answer_by_likelihood(tmp_path: Path) -> None:
    with StubServer(StubConfig()) as stub:
        run_on_stub(tmp_path, stub, ("truthfulqa_mc1",))
    assert stub.log.requests == 4  # one echo request per answer, two answers, two questions
    answers = (" Blue.", " Green.", " Eight.", " Six.")
    assert all(prompt.endswith(answers) for prompt in stub.log.by_prompt)


def test_continuation_is_part_of_the_payload_and_the_cache_key() -> None:
    plain = Request(mode="completion", config=GenerateConfig(max_tokens=1), prompt=CONTEXT)
    first, second = scoring(CONTEXT, " Paris."), scoring(CONTEXT, " Lyon.")
    assert "continuation" not in plain.payload()  # old cache keys stay valid
    assert first.payload()["continuation"] == " Paris."
    keys = {cache_key("t", "m", request, 0) for request in (plain, first, second)}
    assert len(keys) == 3


def test_likelihood_sums_the_tokens_and_says_whether_greedy() -> None:
    greedy = Response(
        logprobs=(
            TokenLogprob(" Paris", -0.5, ((" Paris", -0.5),)),
            TokenLogprob(".", -0.25, ((".", -0.25),)),
        )
    )
    likelihood = greedy.likelihood
    assert likelihood is not None
    assert (likelihood.logprob, likelihood.tokens, likelihood.is_greedy) == (-0.75, 2, True)
    beaten = Response(logprobs=(TokenLogprob(" Lyon", -3.0, ((" Paris", -0.5),)),))
    assert beaten.likelihood is not None and beaten.likelihood.is_greedy is False
    unknown = Response(logprobs=(TokenLogprob(" Lyon", -3.0),))
    assert unknown.likelihood is not None and unknown.likelihood.is_greedy is None
    assert Response(text="hi").likelihood is None


def _echo(pieces: list[str], values: list[float | None]) -> dict[str, Any]:
    offsets, position = [], 0
    for piece in pieces:
        offsets.append(position)
        position += len(piece)
    return {
        "tokens": pieces,
        "text_offset": offsets,
        "token_logprobs": values,
        "top_logprobs": [
            None if v is None else {"x": 0.0, piece: v}
            for piece, v in zip(pieces, values, strict=True)
        ],
    }


def test_echo_parsing_keeps_only_the_continuation_tokens() -> None:
    # "A:" + " Paris." with one generated token "\n" after it.
    echo = _echo(["A", ":", " Paris", ".", "\n"], [None, -1.0, -2.0, -0.5, -0.1])
    picked = continuation_logprobs(echo, len("A:"), len("A: Paris."), generated=1)
    assert [(t.token, t.logprob) for t in picked] == [(" Paris", -2.0), (".", -0.5)]
    assert picked[0].top == (("x", 0.0),)  # the best alternative, for is_greedy
    # Without usage the generated token is still dropped: it starts at the text's end.
    assert len(continuation_logprobs(echo, 2, 9)) == 2


def test_a_token_straddling_the_boundary_counts_as_continuation() -> None:
    # The server merged the context's last character with the continuation's first.
    echo = _echo(["Q", ":A", "bc"], [None, -1.5, -0.5])
    picked = continuation_logprobs(echo, len("Q:"), len("Q:Abc"))
    assert [t.token for t in picked] == [":A", "bc"]


def test_echo_without_logprobs_for_the_continuation_is_an_error() -> None:
    echo = _echo(["A", ":", " Paris"], [None, -1.0, None])
    with pytest.raises(TargetError, match="no logprob for continuation token 2"):
        continuation_logprobs(echo, 2, 8)
    with pytest.raises(TargetError, match="no echoed token falls in the continuation"):
        continuation_logprobs(_echo(["A", ":"], [None, -1.0]), 2, 2)
    with pytest.raises(TargetError, match="text_offset or token_logprob"):
        continuation_logprobs({"tokens": ["A"], "token_logprobs": [None]}, 0, 1)


def test_fake_and_file_targets_refuse_to_invent_a_likelihood(tmp_path: Path) -> None:
    fake = FakeTarget(["Paris"])
    with pytest.raises(TargetError, match="return a Response whose logprobs") as raised:
        asyncio.run(fake.send(scoring(CONTEXT, " Paris.")))
    assert raised.value.error_class is ErrorClass.MALFORMED
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"input": "q", "output": "Paris"}\n')
    target = FileTarget(str(answers))
    asyncio.run(target.start())
    response = asyncio.run(target.send(scoring(CONTEXT, " Paris.")))
    assert response.error is ErrorClass.MALFORMED
    assert response.error_detail is not None and "not likelihoods" in response.error_detail


# -- on the bundled model ---------------------------------------------------------------------


def in_process(target: LlamaCppTarget, context: str, continuation: str) -> Response:
    return asyncio.run(target.send(scoring(context, continuation)))


async def _over_http(base_url: str, pairs: list[tuple[str, str]]) -> list[Response]:
    target = OpenAITarget(base_url)
    target.plan_probes(tools=False, continuation=True)
    await target.start()
    try:
        assert target.capabilities.logprobs
        assert target.capabilities.continuation is True  # llama-cpp-python's server echoes
        return [await target.send(scoring(context, cont)) for context, cont in pairs]
    finally:
        await target.close()


@pytest.mark.slow
def test_plausible_beats_implausible_and_repeats_exactly(builtin: LlamaCppTarget) -> None:
    plausible = in_process(builtin, CONTEXT, PLAUSIBLE).likelihood
    implausible = in_process(builtin, CONTEXT, IMPLAUSIBLE).likelihood
    assert plausible is not None and implausible is not None
    assert plausible.logprob > implausible.logprob + 3
    assert plausible.tokens == 7 and implausible.tokens == 8  # " Paris" / " a" " banana"
    assert all(value < 0 for value in (plausible.logprob, implausible.logprob))
    # A generation in between leaves other tokens in the KV cache: the score must not move.
    generated = Request(mode="completion", config=GenerateConfig(max_tokens=8), prompt="Hello")
    asyncio.run(builtin.send(generated))
    again = in_process(builtin, CONTEXT, PLAUSIBLE).likelihood
    assert again == plausible


@pytest.mark.slow
def test_chat_requests_cannot_score_a_continuation(builtin: LlamaCppTarget) -> None:
    request = Request(
        mode="chat",
        config=GenerateConfig(continuation=" Paris."),
        messages=(Message("user", "Capital of France?"),),
    )
    with pytest.raises(TargetError, match="completion-mode request"):
        asyncio.run(builtin.send(request))


@pytest.mark.slow
def test_in_process_and_server_give_the_same_likelihood(
    builtin: LlamaCppTarget, llama_server: str
) -> None:
    pairs = [
        (CONTEXT, PLAUSIBLE),
        (CONTEXT, IMPLAUSIBLE),
        ("The sun rises in the", " east and sets in the west."),
    ]
    served = asyncio.run(_over_http(llama_server, pairs))
    for (context, continuation), remote in zip(pairs, served, strict=True):
        local = in_process(builtin, context, continuation)
        assert local.logprobs is not None and remote.logprobs is not None
        assert [t.token for t in local.logprobs] == [t.token for t in remote.logprobs]
        # llama.cpp's numbers depend on how tokens are batched (the server reuses its cached
        # BOS and evaluates the rest in one batch, the target the context and the continuation
        # apart). How much depends on the CPU's kernels: about 0.01 nat per token where this was
        # first measured, up to 0.11 nat on an AVX-512 VNNI Xeon (in-process, the same 20
        # tokens: " Paris" -0.607 in one batch, -0.720 split after the BOS). A misaligned token
        # is off by nats.
        for mine, theirs in zip(local.logprobs, remote.logprobs, strict=True):
            close = math.isclose(mine.logprob, theirs.logprob, rel_tol=0.05, abs_tol=0.15)
            assert close, (mine, theirs)
        local_l, remote_l = local.likelihood, remote.likelihood
        assert local_l is not None and remote_l is not None
        tolerance = 0.05 * local_l.tokens
        assert math.isclose(local_l.logprob, remote_l.logprob, abs_tol=tolerance), (
            continuation,
            local_l,
            remote_l,
        )
    ranked = [response.likelihood.logprob for response in served[:2] if response.likelihood]
    assert ranked[0] > ranked[1] + 3  # the server, too, prefers Paris to a banana
