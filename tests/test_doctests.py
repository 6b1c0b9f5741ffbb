"""The examples in the public docstrings run, against the installed package."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "monofact._options",
    "monofact.corpus",
    "monofact.counts",
    "monofact.estimators",
    "monofact.floors",
    "monofact.grading",
    "monofact._histogram",
    "monofact._cli_analysis",
    "monofact.facts",
    "monofact.lm",
    "monofact.errors",
    "monofact.report",
    "monofact.floors",
    "monofact.experiments",
    "monofact.distributed.ranks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
