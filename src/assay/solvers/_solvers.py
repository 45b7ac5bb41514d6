"""Solvers: prompt rendering, few-shot, multiple choice and the generate step.

A solver is `async (state, generate) -> state`. Rendering writes both a raw prompt (for
completion targets, e.g. base models) and a chat message (for chat-only targets); the engine
has already decided which one the request will use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from assay.core import Generate, Message, Sample, Solver, State, content_id, solver

LETTERS = "ABCDEFGHIJ"


def render(state: State, text: str) -> State:
    return replace(state, prompt=text, messages=(*state.messages, Message("user", text)))


@solver()
def prompt_template(template: str, *, prefix: str = "") -> Solver:
    """Render `template` with `{input}` (and sample metadata fields); `prefix` is few-shot text."""

    async def solve(state: State, generate: Generate) -> State:
        body = template.format(input=state.sample.input, **state.sample.metadata)
        if state.mode == "chat":
            return render(state, (prefix + body).strip())
        return render(state, prefix + body)

    return solve


def format_choices(question: str, choices: Sequence[str]) -> str:
    lines = [question.strip()]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)]
    return "\n".join(lines)


def en_letters(letters: str) -> str:
    return f"Reply with the letter ({', '.join(letters)}) only."


def zh_letters(letters: str) -> str:
    return f"请只回答选项字母（{'、'.join(letters)}）。"


def choice_item(sample: Sample, *, question_label: str = "", answer_cue: str = "Answer:") -> str:
    """'{label}{question}\\nA. ..\\nD. ..\\n{cue}': the item as asked, without its answer."""
    return question_label + format_choices(sample.input, sample.choices) + "\n" + answer_cue


@solver()
def multiple_choice(
    *,
    prefix: str | Callable[[Sample], str] = "",
    top_logprobs: int = 20,
    question_label: str = "",
    answer_cue: str = "Answer:",
    chat_instruction: Callable[[str], str] = en_letters,
) -> Solver:
    """Ask for the letter. With logprobs, one token is enough to read the model's preference.

    `prefix` (instruction and few-shot text) may depend on the sample; in chat mode the prompt
    is stripped and `chat_instruction(letters)` follows after a blank line.
    """

    async def solve(state: State, generate: Generate) -> State:
        sample = state.sample
        text = prefix(sample) if callable(prefix) else prefix
        text += choice_item(sample, question_label=question_label, answer_cue=answer_cue)
        if state.mode == "chat":
            text = text.strip() + "\n\n" + chat_instruction(LETTERS[: len(sample.choices)])
        state = render(state, text)
        if state.capabilities.logprobs:
            state = state.with_config(max_tokens=1, top_logprobs=top_logprobs, temperature=0.0)
        else:
            state = state.with_config(max_tokens=16)
        return await generate(state)

    return solve


@solver()
def generate_step() -> Solver:
    async def solve(state: State, generate: Generate) -> State:
        return await generate(state)

    return solve


@dataclass
class Prefixes:
    """Prompt prefixes (instruction + few-shot exemplars) by subject, set by the dataset loader."""

    by_subject: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, subject: str) -> str:
        try:
            return self.by_subject[subject]
        except KeyError:
            raise RuntimeError(
                f"no prompt prefix for {subject!r}: load the task's dataset before its solvers"
            ) from None


@solver()
def sampling(temperature: float, top_p: float) -> Solver:
    """Set sampling instead of greedy decoding (for the solvers after it), with a seed of each
    epoch's own, so that the epochs of `--epochs N` are N different samples for pass@k."""

    async def solve(state: State, generate: Generate) -> State:
        seed = int(content_id(state.config.seed, state.epoch), 16) % 2**31
        return state.with_config(temperature=temperature, top_p=top_p, seed=seed)

    return solve
