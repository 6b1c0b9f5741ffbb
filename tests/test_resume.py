"""Resumable counting: a run SIGKILLed mid-way resumes from its checkpoint to the exact counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import monofact as mf

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, kjv_tok: Path) -> list[str]:
    """About 35 MB in 4 files: KJV eight times, each copy's lines tagged so copies differ."""
    root = tmp_path_factory.mktemp("resume")
    lines = kjv_tok.read_text(encoding="utf-8").splitlines()
    paths = []
    for f in range(4):
        p = root / f"part{f}.txt"
        with p.open("w", encoding="utf-8") as out:
            for copy in (2 * f, 2 * f + 1):
                out.writelines(f"c{copy} {line}\n" for line in lines)
        paths.append(str(p))
    return paths


KW = {"n": 3, "tokenizer": "whitespace", "shard_bytes": 1 << 20}


def test_sigkill_then_resume_equals_uninterrupted(corpus: list[str], tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    script = (
        "import sys, monofact as mf\n"
        f"mf.count_ngrams({corpus!r}, n=3, tokenizer='whitespace', shard_bytes=1 << 20, "
        f"threads=1, checkpoint_dir={str(ckpt)!r}, progress='none')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ckpt.exists() and len(list(ckpt.glob("shard-*.done"))) >= 4:
            break
        if proc.poll() is not None:
            pytest.fail("the counting subprocess ended before it could be killed")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(ckpt.glob("shard-*.done")))
    whole = mf.count_ngrams(corpus, progress="none", **KW)
    assert finished < whole.summary["shards"], "killed too late to test anything"
    resumed = mf.count_ngrams(corpus, checkpoint_dir=ckpt, progress="none", **KW)
    assert resumed.summary["resumed_shards"] >= finished >= 4
    assert not resumed.summary["checkpoint_discarded"]
    for k in ("samples", "total_samples", "distinct", "n1", "n2", "tokens", "documents", "bytes"):
        assert resumed.summary[k] == whole.summary[k], k
    assert resumed.histogram().equals(whole.histogram())
    assert resumed.to_table().equals(whole.to_table())
    # A third run takes every shard from the checkpoint.
    again = mf.count_ngrams(corpus, checkpoint_dir=ckpt, progress="none", **KW)
    assert again.summary["resumed_shards"] == whole.summary["shards"]
    assert again.to_table().equals(whole.to_table())


def test_changed_input_discards_the_checkpoint(
    corpus: list[str], tmp_path: Path, kjv_tok: Path
) -> None:
    small = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    text = kjv_tok.read_text(encoding="utf-8")
    Path(small[0]).write_text(text[:1_000_000], encoding="utf-8")
    Path(small[1]).write_text(text[1_000_000:2_000_000], encoding="utf-8")
    ckpt = tmp_path / "ckpt"
    first = mf.count_ngrams(small, checkpoint_dir=ckpt, progress="none", **KW)
    assert first.summary["resumed_shards"] == 0
    Path(small[1]).write_text(text[1_000_000:2_100_000], encoding="utf-8")
    with pytest.warns(UserWarning, match="discarded"):
        second = mf.count_ngrams(small, checkpoint_dir=ckpt, progress="none", **KW)
    assert second.summary["checkpoint_discarded"]
    assert second.summary["resumed_shards"] == 0
    fresh = mf.count_ngrams(small, progress="none", **KW)
    assert second.to_table().equals(fresh.to_table())
    # Different options discard it too.
    with pytest.warns(UserWarning, match="discarded"):
        mf.count_ngrams(small, checkpoint_dir=ckpt, progress="none", **{**KW, "n": 2})


def test_checkpoint_needs_files(kjv_lines: list[str], tmp_path: Path) -> None:
    import pyarrow as pa

    with pytest.raises(mf.ConfigError, match="checkpoint_dir"):
        mf.count_ngrams(pa.table({"text": kjv_lines[:10]}), checkpoint_dir=tmp_path)


def test_ctrl_c_removes_the_spill_directory(corpus: list[str], tmp_path: Path) -> None:
    """SIGINT during a spilling run: KeyboardInterrupt, and the spill directory is gone."""
    spill = tmp_path / "spill"
    spill.mkdir()
    script = (
        "import monofact as mf\n"
        "try:\n"
        f"    mf.count_ngrams({corpus * 3!r}, n=3, tokenizer='whitespace', threads=1, "
        f"memory='256KB', spill_dir={str(spill)!r}, progress='none')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(any(p.glob("*.run")) for p in spill.iterdir()):
        if proc.poll() is not None:
            pytest.fail("the counting subprocess ended before it spilled")
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert "interrupted" in out
    assert list(spill.iterdir()) == []
