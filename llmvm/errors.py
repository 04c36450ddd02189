"""The exception tree. Every message says what went wrong, where, and what to do next."""


class LLMVMError(Exception):
    """Base of every error llmvm raises on purpose; the CLI turns these into clean messages."""


class ProgramError(LLMVMError):
    """A program, dialect or input file is malformed: the message names file, state and symbol."""


class CompletionError(LLMVMError):
    """A completion could not be applied; memory is unchanged. Carries the step, prompt and output."""

    def __init__(self, message: str, *, step: int | None = None, prompt: str = "", output: str = ""):
        self.reason, self.step, self.prompt, self.output = message, step, prompt, output
        super().__init__(self._render())

    def with_context(self, *, step: int, prompt: str, output: str) -> "CompletionError":
        """The same error, told where it happened (the harness knows the text, the VM the step)."""
        return type(self)(self.reason, step=step, prompt=prompt, output=output)

    def _render(self) -> str:
        where = f"step {self.step}: " if self.step is not None else ""
        text = f"{where}{self.reason}"
        if self.output:
            text += f"\n  raw output: {self.output!r}"
        if self.prompt:
            tail = self.prompt[-300:]
            text += f"\n  prompt (last {len(tail)} of {len(self.prompt)} chars): {tail!r}"
        return text


class ReadError(CompletionError):
    """An instruction's @[label] reads could not be resolved (unknown label, depth exceeded)."""


class BackendError(LLMVMError):
    """A backend failed (unknown name, bad options, network, model) — the message says how to fix it."""


class DivergenceError(LLMVMError):
    """The LLM machine and the reference simulator disagree; both configurations are in the message."""


class TraceError(LLMVMError):
    """A trace file cannot be read: the message names the file and the line."""


class CheckpointError(LLMVMError):
    """A checkpoint cannot be written or used: the message names the file and what is wrong with it."""


class ConfigError(LLMVMError):
    """The user's configuration file is unsafe or malformed: the message names it and how to fix it."""
