"""Long calls release the GIL, stop on Ctrl-C within a second, and report progress."""

from __future__ import annotations

import _thread
import random
import threading
import time
from pathlib import Path

import pytest

import monofact as mf


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> Path:
    """About 45 MB of random words: several seconds of single-threaded 8-gram counting."""
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(50_000)]
    path = tmp_path_factory.mktemp("big") / "big.txt"
    with open(path, "w") as f:
        f.writelines(
            "\n".join(" ".join(rng.choices(vocab, k=20)) for _ in range(8_000)) + "\n"
            for _ in range(12)
        )
    # Repeat the block to reach the size cheaply.
    block = path.read_bytes()
    with open(path, "ab") as f:
        f.writelines(block for _ in range(3))
    return path


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(big_corpus):
    fired = {}

    def interrupt():
        fired["at"] = time.monotonic()
        _thread.interrupt_main()

    timer = threading.Timer(0.5, interrupt)
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        mf.count_ngrams(big_corpus, n=8, tokenizer="whitespace", threads=1, progress="none")
    stopped = time.monotonic()
    timer.join()
    assert "at" in fired, "the count finished before the interrupt: make the corpus larger"
    assert stopped - fired["at"] < 1.0
    assert stopped - start < 1.6
    # The engine is usable again afterwards.
    assert (
        mf.count_ngrams(big_corpus, n=1, tokenizer="whitespace", progress="none").summary["tokens"]
        > 0
    )


def test_gil_is_released(big_corpus):
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    start = time.monotonic()
    mf.count_ngrams(big_corpus, n=3, tokenizer="whitespace", threads=1, progress="none")
    elapsed = time.monotonic() - start
    stop.set()
    t.join()
    # With the GIL held the spinner would not tick at all during the call.
    assert ticks > 0.3 * elapsed / 0.001 * 0.1


def test_progress_callback_gets_figures(big_corpus):
    seen = []
    c = mf.count_ngrams(big_corpus, n=2, tokenizer="whitespace", threads=1, progress=seen.append)
    assert seen, "no progress report"
    last = seen[-1]
    assert last.get("done") is True
    assert last["bytes_total"] == big_corpus.stat().st_size
    assert last["bytes_done"] == last["bytes_total"]
    assert last["documents"] == c.summary["documents"]
    assert last["tokens"] == c.summary["tokens"]
    assert {"phase", "seconds"} <= set(last)


def test_progress_modes_print(big_corpus, capsys):
    mf.count_ngrams(big_corpus, n=1, tokenizer="whitespace", progress="json")
    mf.count_ngrams(big_corpus, n=1, tokenizer="whitespace", progress="bar")
    err = capsys.readouterr().err
    # Quick calls stay quiet (under a second); slow ones print. Either way nothing breaks.
    assert err == "" or '"task": "count"' in err or "count [" in err


def test_progress_callback_exception_stops_the_call(big_corpus):
    def boom(_):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        mf.count_ngrams(big_corpus, n=8, tokenizer="whitespace", threads=1, progress=boom)


def test_notebook_bar_updates_in_place(monkeypatch):
    import sys
    import types

    from monofact import _progress

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj.data))

    def display(obj, display_id=False):
        shown.append(("display", obj.data))
        return Handle()

    class HTML:
        def __init__(self, data):
            self.data = data

    fake = types.ModuleType("IPython.display")
    fake.display = display
    fake.HTML = HTML
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    bar = _progress.reporter("auto", "count <x>")
    snap = {"phase": "scan", "bytes_done": 50, "bytes_total": 100, "documents": 5, "tokens": 9}
    bar({**snap, "seconds": 0.2})  # quiet during the first second
    bar({**snap, "seconds": 1.5})
    bar({**snap, "bytes_done": 100, "seconds": 2.0, "done": True})
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert '<progress value="50.0"' in shown[0][1] and "count &lt;x&gt;" in shown[0][1]
    assert '<progress value="100.0"' in shown[1][1]
