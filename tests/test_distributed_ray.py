"""monofact.distributed.ray on a local two-CPU Ray cluster equals the local run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

import monofact as mf


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory, kjv_tok: Path) -> list[str]:
    lines = kjv_tok.read_text(encoding="utf-8").splitlines(keepends=True)
    root = tmp_path_factory.mktemp("ray")
    out = []
    for i in range(4):
        p = root / f"part{i}.txt"
        p.write_text("".join(lines[i::4]), encoding="utf-8")
        out.append(str(p))
    return out


@pytest.mark.parametrize(
    ("n", "kw"), [(3, {}), (2, {"pad": True, "sample": 0.3, "sample_seed": 2})]
)
def test_ray_equals_local(cluster: None, parts: list[str], n: int, kw: dict[str, object]) -> None:
    from monofact.distributed.ray import count_ngrams as count_on_ray

    local = mf.count_ngrams(parts, n=n, tokenizer="whitespace", progress="none", **kw)
    dist = count_on_ray(parts, n=n, tokenizer="whitespace", partition_groups=4, **kw)
    assert dist.to_table().equals(local.to_table())
    assert dist.histogram().equals(local.histogram())
    for k in ("samples", "total_samples", "distinct", "n1", "n2", "tokens", "documents"):
        assert dist.summary[k] == local.summary[k], k
    if "sample" in kw:
        assert dist.summary["singleton_rate_low"] == pytest.approx(
            local.summary["singleton_rate_low"]
        )
