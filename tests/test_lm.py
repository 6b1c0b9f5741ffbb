"""n-gram models: KenLM's lmplz reproduced (MATH.md T10, the shipped KJV ARPA), KenLM's scorer,
the she/he example of KNVZ Corollary 2, generation, and bad input."""

from __future__ import annotations

import lzma
from pathlib import Path

import pyarrow as pa
import pytest

import monofact as mf
from conftest import KJV
from monofact import ConfigError, InputError


def t10_corpus() -> list[str]:
    """MATH.md T10: 500 lines from the LCG, vocabulary w0..w149 with weights 200 // (k+1)."""
    x = 12345

    def nxt() -> int:
        nonlocal x
        x = (1103515245 * x + 12345) % 2**31
        return x

    weights = [200 // (k + 1) for k in range(150)]
    cum, acc = [], 0
    for w in weights:
        acc += w
        cum.append(acc)
    lines = []
    for _ in range(500):
        length = 3 + (nxt() >> 16) % 5
        toks = []
        for _ in range(length):
            r = (nxt() >> 16) % 1048
            toks.append(f"w{next(k for k in range(150) if r < cum[k])}")
        lines.append(" ".join(toks))
    return lines


def read_arpa(path: Path) -> dict[tuple[str, ...], tuple[float, float | None]]:
    opener = lzma.open if path.suffix == ".xz" else open
    entries: dict[tuple[str, ...], tuple[float, float | None]] = {}
    section = 0
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("\\") and line.endswith("-grams:"):
                section = int(line[1 : line.index("-")])
                continue
            if section and line and not line.startswith("\\"):
                fields = line.split("\t")
                back = float(fields[2]) if len(fields) > 2 else None
                entries[tuple(fields[1].split(" "))] = (float(fields[0]), back)
    return entries


@pytest.fixture(scope="module")
def t10_model(tmp_path_factory) -> tuple[mf.NGramModel, Path]:
    lines = t10_corpus()
    assert lines[0] == "w8 w0 w2 w0 w2 w48"
    path = tmp_path_factory.mktemp("t10") / "t10.txt"
    path.write_text("".join(line + "\n" for line in lines))
    import hashlib

    assert hashlib.md5(path.read_bytes()).hexdigest() == "92d60a5251973766710c231e5f6a1833"
    lm = mf.NGramModel.fit(path, order=3, progress="none")
    arpa = path.with_suffix(".arpa")
    lm.save_arpa(arpa)
    return lm, arpa


def test_t10_counts_discounts_and_arpa_lines(t10_model):
    lm, arpa = t10_model
    assert lm.ngram_counts() == [146, 1324, 2148]
    want = [(0.24, 1.43158, 1.976), (0.709531, 1.21286, 1.72085), (0.88432, 1.44039, 0.903834)]
    for got, exp in zip(lm.discounts(), want):
        assert got == pytest.approx(exp, abs=1e-5)
    e = read_arpa(arpa)
    expected = {
        ("<unk>",): (-2.8795042, 0.0),
        ("<s>",): (0.0, -0.5960853),
        ("</s>",): (-1.1639391, 0.0),
        ("w0",): (-1.1591808, -0.4822166),
        ("w149",): (-2.4432454, -0.14902863),
        ("<s>", "w0"): (-0.6943762, -0.3516708),
        ("w0", "w0"): (-0.94399464, -0.40784377),
        ("<s>", "w0", "w0"): (-0.5282312, None),
        ("w0", "w0", "w0"): (-0.6647746, None),
    }
    for gram, (p, b) in expected.items():
        assert e[gram][0] == pytest.approx(p, abs=1e-6), gram
        if b is None:
            assert e[gram][1] is None
        else:
            assert e[gram][1] == pytest.approx(b, abs=1e-6), gram


def test_t10_queries(t10_model):
    lm, arpa = t10_model
    per = lm.token_log10_probs("w0 w1 w0")
    assert per == pytest.approx([-0.6943762, -1.0585413, -0.61314285, -0.4026649], abs=1e-6)
    assert lm.log10_prob("w0 w1 w0") == pytest.approx(-2.7687252, abs=1e-6)
    # log10 p(w149 | w0 w0): the sentence "w0 w0 w149" without </s>, minus its first two tokens.
    toks = lm.token_log10_probs("w0 w0 w149", eos=False)
    assert toks[2] == pytest.approx(-3.3333058, abs=1e-6)
    # ARPA round trip: read back, same scores, same text when written again.
    again = mf.NGramModel.load_arpa(arpa)
    assert again.log10_prob(["w0 w1 w0", "w9 unknownword w3"]) == pytest.approx(
        lm.log10_prob(["w0 w1 w0", "w9 unknownword w3"]), abs=1e-6
    )
    arpa2 = arpa.with_name("again.arpa")
    again.save_arpa(arpa2)
    assert arpa2.read_text() == arpa.read_text()


def test_t10_order_2_discounts(tmp_path):
    lm = mf.NGramModel.fit(pa.table({"text": t10_corpus()}), order=2, progress="none")
    assert lm.discounts()[1] == pytest.approx((0.714507, 0.998136, 2.00301), abs=1e-5)


@pytest.fixture(scope="module")
def kjv_model(tmp_path_factory) -> tuple[mf.NGramModel, Path]:
    lm = mf.NGramModel.fit(KJV / "kjv.tok.txt", order=3, progress="none")
    arpa = tmp_path_factory.mktemp("kjv") / "kjv.arpa"
    lm.save_arpa(arpa)
    return lm, arpa


def test_kjv_arpa_equals_kenlm(kjv_model):
    lm, arpa = kjv_model
    assert lm.ngram_counts() == [12566, 141365, 398572]
    want = [(0.559594, 1.03627, 1.55505), (0.692491, 1.1035, 1.45504), (0.743915, 1.17904, 1.43446)]
    for got, exp in zip(lm.discounts(), want):
        assert got == pytest.approx(exp, abs=1e-5)
    ours = read_arpa(arpa)
    kenlm = read_arpa(KJV / "kjv.o3.arpa.xz")
    assert ours.keys() == kenlm.keys()
    worst = 0.0
    for gram, (p, b) in kenlm.items():
        q, c = ours[gram]
        worst = max(worst, abs(p - q), abs((b or 0.0) - (c or 0.0)))
    assert worst < 1e-5


def test_arpa_bytes_do_not_depend_on_threads_or_shards(kjv_model, tmp_path):
    # The counting engine's word ids depend on thread timing; the ARPA (line order included)
    # must not.
    _, arpa = kjv_model
    lm = mf.NGramModel.fit(KJV / "kjv.tok.txt", order=3, threads=1, progress="none")
    one = tmp_path / "one.arpa"
    lm.save_arpa(one)
    assert one.read_bytes() == arpa.read_bytes()
    lines = arpa.read_text().splitlines()
    unigrams = [line.split("\t")[1] for line in lines[lines.index("\\1-grams:") + 1 :][:12566]]
    assert unigrams[:3] == ["<unk>", "<s>", "</s>"]
    assert [w.encode() for w in unigrams[3:]] == sorted(w.encode() for w in unigrams[3:])


def test_scores_equal_kenlm_module(kjv_model):
    import kenlm

    lm, arpa = kjv_model
    # A held-out-like set: every 50th verse, plus sentences with unknown words.
    lines = (KJV / "kjv.tok.txt").read_text().splitlines()[::50]
    lines += ["zebra and the lord said unto moses", "qqq www eee"]
    ref = kenlm.Model(str(arpa))
    ours = lm.log10_prob(lines)
    for sentence, got in zip(lines, ours):
        assert got == pytest.approx(ref.score(sentence, bos=True, eos=True), abs=1e-4)
    total = sum(ref.score(s, bos=True, eos=True) for s in lines)
    tokens = sum(len(s.split()) + 1 for s in lines)
    assert lm.perplexity(lines) == pytest.approx(10 ** (-total / tokens), rel=1e-4)


def test_she_he_trigram_cannot_tell(tmp_path):
    corpus = [
        "she lost it and was completely out of her mind",
        "he lost it and was completely out of his mind",
        "she was completely out of her mind",
        "he was completely out of his mind",
    ] * 3 + ["the cat sat on the mat", "a dog ran out of the house", "she said it was his"] * 2
    full = ["she lost it and was completely out of", "he lost it and was completely out of"]
    short = ["she was completely out of", "he was completely out of"]
    choices = [["her mind", "his mind"], ["her mind", "his mind"]]
    tri = mf.NGramModel.fit(
        pa.table({"text": corpus}), order=3, discount_fallback=True, progress="none"
    )
    six = mf.NGramModel.fit(
        pa.table({"text": corpus}), order=6, discount_fallback=True, progress="none"
    )
    for prompts in (full, short):
        r3 = tri.choose(prompts, choices, answers=[0, 1])
        # A trigram model sees only "out of": the same scores for both prompts, the same pick,
        # so it errs on one of the two (KNVZ Corollary 2: error >= 1/2).
        assert r3.log10_probs[0] == r3.log10_probs[1]
        assert r3.error_rate is not None and r3.error_rate >= 0.5
        assert r3.error_rate >= mf.multiple_choice_bound(choices=2, opt=0.5)
    # An order-6 model sees five words back: enough when "she"/"he" is among them.
    r6 = six.choose(short, choices, answers=[0, 1])
    assert r6.picks == [0, 1] and r6.error_rate == 0.0
    # In the paper's full sentences "she"/"he" is 8 words before "her"/"his": only an order-9
    # model could see it, so order 6 still ties there.
    full6 = six.choose(full, choices)
    assert full6.log10_probs[0] == full6.log10_probs[1]


def test_generate_is_seeded_and_greedy_is_deterministic(kjv_model):
    lm, _ = kjv_model
    a = lm.generate("and the lord said", max_tokens=12, seed=7)
    b = lm.generate("and the lord said", max_tokens=12, seed=7)
    assert a == b and len(a.split()) <= 12
    many = lm.generate(["in the beginning", "and the lord said"], max_tokens=5, greedy=True)
    assert many == lm.generate(["in the beginning", "and the lord said"], max_tokens=5, greedy=True)
    assert all(isinstance(t, str) for t in many)


def test_words_tokenizer_queries_match_fit():
    lm = mf.NGramModel.fit(
        pa.table({"text": ["The cat, the CAT.", "the cat sat."] * 5}),
        order=2,
        tokenizer="words",
        lowercase=True,
        discount_fallback=True,
        progress="none",
    )
    assert lm.log10_prob("THE CAT.") == pytest.approx(lm.log10_prob("the cat ."))


def test_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="order"):
        mf.NGramModel.fit(pa.table({"text": ["a b"]}), order=7, progress="none")
    with pytest.raises(ConfigError, match="discount"):
        mf.NGramModel.fit(pa.table({"text": ["a b c"]}), order=3, progress="none")
    with pytest.raises(ConfigError, match="reserved|<s>"):
        mf.NGramModel.fit(
            pa.table({"text": ["a <s> b"] * 20}), order=2, discount_fallback=True, progress="none"
        )
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\t<s>\nnot a number\tx\n\\end\\\n")
    with pytest.raises(InputError, match=r"bad\.arpa.*line"):
        mf.NGramModel.load_arpa(bad)
    with pytest.raises(InputError):
        mf.NGramModel.load_arpa(tmp_path / "missing.arpa")


def test_queries_reject_non_strings_and_reserved_tokens():
    lm = mf.NGramModel.fit(
        pa.table({"text": ["the cat sat", "a dog ran"] * 5}),
        order=2,
        discount_fallback=True,
        progress="none",
    )
    for bad in (["the cat", 3, "a dog"], [b"the cat"], ("a", None)):
        for call in (lm.log10_prob, lm.token_log10_probs, lm.perplexity):
            with pytest.raises(ConfigError, match="strings"):
                call(bad)
    with pytest.raises(ConfigError, match="<s>"):
        lm.log10_prob(["the cat", "a <s> dog"])
