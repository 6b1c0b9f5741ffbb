"""KNVZ Theorem 3 / Corollary 2 with real n-gram models: she/he and "out of her/his mind".

A model fit on "she lost it and was completely out of her mind" and "he lost it and was completely
out of his mind" is asked to complete both prompts with "her mind" or "his mind". A trigram sees
only "out of", so it gives both prompts the same answer and errs on half of them: opt(G) = 1/2
and Theorem 3 gives ``err >= 2 (1 - 1/2) opt = 1/2``. The pronoun is eight tokens before the
answer, so even a 6-gram (context: "and was completely out of") cannot see it; on the shorter
"she was out of her mind" the pronoun is four tokens back and a 5- or 6-gram answers right.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

import monofact as mf

__all__ = ["VARIANTS", "run"]

#: (name, corpus sentences, prompts); the right choice of prompt i is choice i.
VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    "KNVZ": (
        [
            "she lost it and was completely out of her mind",
            "he lost it and was completely out of his mind",
        ],
        ["she lost it and was completely out of", "he lost it and was completely out of"],
    ),
    "short": (
        ["she was out of her mind", "he was out of his mind"],
        ["she was out of", "he was out of"],
    ),
}
CHOICES = ["her mind", "his mind"]


def _sees_pronoun(order: int, prompt: str) -> bool:
    """Whether an n-gram's context when predicting the answer reaches the pronoun (token 1)."""
    return order - 1 >= len(prompt.split())


def run(orders: tuple[int, ...] = (3, 6)) -> list[dict[str, Any]]:
    """Fit each variant at each order, answer both prompts, compare with Theorem 3.

    Rows: variant, order, sees_pronoun, picks, error_rate, bound (``multiple_choice_bound(2,
    opt)`` with ``opt = 1/2`` when the context misses the pronoun, else 0), claim
    (``at_least_half`` or ``can_be_right``).
    """
    rows: list[dict[str, Any]] = []
    for name, (sentences, prompts) in VARIANTS.items():
        corpus = pa.table({"text": sentences * 2})
        for order in orders:
            lm = mf.NGramModel.fit(corpus, order=order, discount_fallback=True, progress="none")
            got = lm.choose(prompts, [CHOICES, CHOICES], answers=[0, 1])
            sees = _sees_pronoun(order, prompts[0])
            opt = 0.0 if sees else 0.5
            rows.append(
                {
                    "variant": name,
                    "order": order,
                    "sees_pronoun": sees,
                    "picks": [CHOICES[p] for p in got.picks],
                    "error_rate": float(got.error_rate or 0.0),
                    "bound": mf.multiple_choice_bound(2, opt),
                    "claim": "can_be_right" if sees else "at_least_half",
                }
            )
    return rows
