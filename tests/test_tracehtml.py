"""The trace page: its data (downsampling keeps exact steps), and the page itself in headless Chromium."""

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from llmvm import tracehtml
from llmvm.trace import Tape, TraceReader
from tests.test_trace import trace_of

WIDTH, HEIGHT = 1200, 900


def decode_row(row, data):
    """A page row back to {cell: symbol} (blanks left out)."""
    first, runs = row[0], row[1]
    cells, p = {}, first
    for code, count in re.findall(r"(\D)(\d*)", runs):
        for _ in range(int(count or 1)):
            cells[p] = data["symbols"][data["codes"].index(code)]
            p += 1
    return {k: v for k, v in cells.items() if v != data["symbols"][0]}


def test_page_data_keeps_exact_steps_when_downsampled(tmp_path):
    path = tmp_path / "bb4.jsonl"
    trace_of(path)
    data = tracehtml.collect(path, max_rows=10)
    kept = [s for s in data["steps"] if s is not None]
    assert data["stride"] == 11 and [s["n"] for s in kept] == list(range(1, 108, 11))
    assert len(data["rows"]) == len(kept) + 1 and data["steps"][-1] is None  # + the final tape
    records = {r["n"]: r for r in TraceReader(path) if r["type"] == "step"}
    tape = Tape(next(iter(TraceReader(path))))
    for n in range(1, 108):
        if (n - 1) % 11 == 0:
            i = (n - 1) // 11
            assert kept[i] == {k: v for k, v in records[n].items() if k != "type"}
            assert decode_row(data["rows"][i], data) == {p: s for p, s in tape.cells.items() if s != "0"}
            assert data["rows"][i][2:] == [records[n]["head"], records[n]["state"]]
        tape.apply(records[n])
    assert data["rows"][-1][2:] == [tape.head, "Z"]
    assert decode_row(data["rows"][-1], data) == {p: s for p, s in tape.cells.items() if s != "0"}
    assert set(data["prompts"]) == {s["prompt"] for s in kept}  # only the prompts the kept rows need


def test_page_is_self_contained(tmp_path):
    path, page = tmp_path / "bb3.jsonl", tmp_path / "bb3.html"
    trace_of(path, "bb3.yaml")
    stats = tracehtml.write(path, page)
    html = page.read_text()
    assert (stats.steps, stats.rows) == (21, 21)
    assert "<canvas" in html and "http://" not in html and "https://" not in html and "src=" not in html
    assert html.count("</script>") == 3  # the error hook, the data, the program: data cannot close its tag


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed, so the trace page cannot be checked: apt-get install -y chromium")
    return found


def browse(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", f"--window-size={WIDTH},{HEIGHT}", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """(width, height, the distinct pixels) of an 8-bit RGB or RGBA PNG, decoded with the stdlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth={depth} colour={colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, pixels = bytearray(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(kind, line, previous, bpp)
        pixels.update(bytes(line[x:x + bpp]) for x in range(0, stride, bpp * 7))  # a sample of each line
        previous = line
    return width, height, pixels


def unfilter(kind: int, line: bytearray, up: bytearray, bpp: int) -> None:
    """Undo one PNG scanline filter in place."""
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 255 for a, b in zip(line, up))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        corner = up[i - bpp] if i >= bpp else 0
        if kind == 1:
            add = left
        elif kind == 3:
            add = (left + up[i]) // 2
        else:  # 4: Paeth
            p = left + up[i] - corner
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
            add = left if pa <= pb and pa <= pc else up[i] if pb <= pc else corner
        line[i] = (line[i] + add) & 255


@pytest.mark.browser
def test_page_renders_in_headless_chromium(tmp_path):
    path, page = tmp_path / "bb3.jsonl", tmp_path / "bb3.html"
    trace_of(path, "bb3.yaml")
    tracehtml.write(path, page)
    shot = tmp_path / "bb3.png"
    done = browse(page.as_uri(), tmp_path / "profile", f"--screenshot={shot}")
    assert shot.exists(), f"no screenshot; chromium said:\n{done.stderr[-2000:]}"
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(pixels) > 10, "the screenshot is (nearly) one colour: nothing was drawn"
    assert "Uncaught" not in done.stderr, done.stderr[-2000:]
    dom = browse(page.as_uri(), tmp_path / "profile", "--dump-dom").stdout
    assert 'data-rendered="21 rows"' in dom, dom[-2000:]
    errors = re.search(r'<pre id="errors">(.*?)</pre>', dom, re.S)
    assert errors is not None and errors[1] == "", f"the page reported errors: {errors and errors[1]}"
    assert "Step 1" in dom and "Raw completion" in dom and "op := " in dom  # the inspector shows a step
