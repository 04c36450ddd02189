"""Bi-tag systems on U15,2: the tape encoding, the decoder, and the step-by-step check between them.

The encoding is Neary & Woods' (2009), as written down in ``../shared/U15_2.md``; c = 0 (blank),
b = 1. The tape is ``<P> bc <w>`` (program, marker, word) and U15,2 starts in state A on the c of
the marker. The program lists the images of the productions; the word is at the right end of the
used tape and U15,2 appends one production image per bi-tag step while it consumes the front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from llmvm.bitag import BiTag, Name, Word
from llmvm.bitag import steps as bitag_steps
from llmvm.errors import ProgramError
from llmvm.program import TuringMachine, parse_compact
from llmvm.reference import Reference

C, B = "0", "1"  # Neary & Woods' c (the blank) and b
# U15,2 in compact notation: three characters (write, move, next) per symbol 0 and 1, states A..O
TABLE = "0RB1RA_1RC1RA_0LG0LE_0LF1LE_1RA1LD_1LD1LD_0LH1LG_1LI1LG_0RA1LJ_1LK---_0RL1RN_0RM1RL_0LB1RL_0LC0RO_0RN1RN"


def _cb(n: int) -> str:
    return (C + B) * n


def _cc(n: int) -> str:
    return (C + C) * n


CCCB2 = (C + C + C + B) * 2


@dataclass(frozen=True)
class Encoding:
    """The numbers the encoding uses: q = |A|, h = |E|, and each symbol's index (from 1)."""

    system: BiTag

    @property
    def q(self) -> int:
        return len(self.system.A)

    @property
    def h(self) -> int:
        return len(self.system.E)

    def a(self, name: Name) -> int:
        return self.system.A.index(name) + 1

    def e(self, name: Name) -> int:
        return self.system.E.index(name) + 1

    # ---------------------------------------------------------------- the word

    def symbol(self, name: Name) -> str:
        """<a_i> = (cb)^(8i-5) bb;  <e_j> = (cb)^(8jq) for j < h;  <e_h> = (cb)^(8hq+3) bb."""
        if name in self.system.A:
            return _cb(8 * self.a(name) - 5) + B + B
        j = self.e(name)
        if j < self.h:
            return _cb(8 * j * self.q)
        return _cb(8 * self.h * self.q + 3) + B + B

    def word(self, word: Word) -> str:
        return "".join(self.symbol(s) for s in word)

    # ---------------------------------------------------------------- the program

    def production(self, e: Name, a: Name) -> str:
        """The image of P(e, a) = a_k [a_l] e_m, the e_m part first."""
        rhs = self.system.productions[e, a]
        m, ks = self.e(rhs[-1]), [self.a(s) for s in rhs[:-1]]
        q, h = self.q, self.h
        tail = "".join(CCCB2 + _cc(8 * k - 5) for k in reversed(ks))  # a_l's image before a_k's
        if m < h:
            lead = _cb(5) if len(ks) == 1 else _cb(3)
            return lead + _cc(8 * m * q) + tail
        lead = _cb(3) if len(ks) == 1 else _cb(1)
        return lead + CCCB2 + _cc(8 * h * q + 3) + tail

    def passive(self, a: Name) -> str:
        return _cb(4) + CCCB2 + _cc(8 * self.a(a) - 5)

    def program(self) -> str:
        """<P>: bbcccb, active images (j = h-1..1, i = q..1) joined by cb, (cb)^2, passive images, (cb)^3."""
        E, A = self.system.E, self.system.A
        active = [self.production(e, a) for e in reversed(E[:-1]) for a in reversed(A)]
        passive = [self.passive(a) for a in reversed(A)]
        return B + B + C + C + C + B + _cb(1).join(active) + _cb(2) + _cb(2).join(passive) + _cb(3)


@dataclass(frozen=True)
class Tape:
    """A U15,2 input: the cells from 0 and where the head starts."""

    cells: str  # '0'/'1'
    head: int
    program_cells: int  # |<P>|


def encode(system: BiTag, word: Word | None = None) -> Tape:
    """The U15,2 tape that simulates ``system`` from ``word`` (default: its start word)."""
    word = system.start if word is None else word
    enc = Encoding(system)
    program = enc.program()
    return Tape(program + B + C + enc.word(word), len(program) + 1, len(program))


def decode(system: BiTag, cells: str) -> Word:
    """The halting word from U15,2's tape at its halt: e_h followed by the A-symbols after it.

    Strip trailing blanks and one trailing ``cb`` end marker, then read blocks ``(cb)^k bb`` from
    the right as a_((k+5)/8) until a block is not an A-symbol code.
    """
    enc = Encoding(system)
    s = cells.rstrip(C)
    if s.endswith(C + B):
        s = s[:-2]
    found: list[Name] = []
    while s.endswith(B + B):
        body = s[:-2]
        k = 0
        while body.endswith(C + B, 0, len(body) - 2 * k):
            k += 1
        if (k + 5) % 8 or not 1 <= (k + 5) // 8 <= enc.q:
            break
        found.append(system.A[(k + 5) // 8 - 1])
        s = body[: len(body) - 2 * k]
    if not found:
        raise ProgramError("the U15,2 tape does not end with an encoded bi-tag word: did it halt?")
    return (system.halt, *reversed(found))


def machine(tape: Tape) -> TuringMachine:
    """U15,2 (Neary & Woods' Table 16, A..O for u1..u15) started on ``tape``."""
    return parse_compact(TABLE, name="U15,2").with_input(tuple(tape.cells), tape.head)


def check_on_u15(system: BiTag, max_steps: int) -> Check:
    """Run U15,2 on the encoded system one step at a time and match every bi-tag word on its tape.

    Each time U15,2 writes a b at or beyond the rightmost b, the used tape is compared with the
    encoding of the next bi-tag word; a match records (bi-tag step, U15,2 step). The run is right
    when every word up to the halting one was matched in order and U15,2 then halted.
    """
    enc = Encoding(system)
    tape = encode(system)
    ref = Reference(machine(tape))
    used = bytearray(tape.cells, "ascii")
    right = used.rindex(ord(B))
    words = bitag_steps(system)
    matched: list[tuple[int, int]] = []
    want: bytes | None = enc.word(next(words)).encode()
    while want is not None and used[right + 1 - len(want) : right + 1] == want:
        matched.append((len(matched), 0))
        want = _next(enc, words)
    while ref.steps < max_steps:
        p = ref.head
        if not ref.step():
            break
        s = ref.symbol(p).encode()
        if p >= len(used):
            used.extend(b"0" * (p + 1 - len(used)))
        used[p] = s[0]
        if s == b"0":
            if p == right:
                right = used.rindex(ord(B))
            continue
        if p < right:
            continue
        right = p
        while want is not None and used[right + 1 - len(want) : right + 1] == want:
            matched.append((len(matched), ref.steps))
            want = _next(enc, words)
    return Check(tuple(matched), ref.halted, ref.steps, want is None)


def _next(enc: Encoding, words: Iterator[Word]) -> bytes | None:
    word = next(words, None)
    return None if word is None else enc.word(word).encode()


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`check_on_u15`."""

    matched: tuple[tuple[int, int], ...]  # (bi-tag step, U15,2 step at which its word appeared)
    halted: bool  # U15,2 halted
    u15_steps: int
    all_words: bool  # every word up to the halting one appeared, in order

    @property
    def ok(self) -> bool:
        return self.halted and self.all_words
