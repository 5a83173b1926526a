"""Peer benchmark: render every v1 (feedstock, variant) pair with py-rattler-build.

For each feedstock of ../shared/data/feedstocks that has recipe/recipe.yaml, the recipe is
parsed once per pass (stage0) and rendered once per .ci_support/*.yaml file, with that file
as the variant config and its target_platform (or the platform in its file name) as the
target platform. One pass renders every pair; the script runs 5 passes and prints the
number of pairs and the median pass time (wall clock, and CPU time of the process, which
a busy machine disturbs less). Pairs that fail to render are listed on stderr
(they are timed like the others).

Usage: python benches/peer/rattler_build_render.py [FEEDSTOCKS_DIR] [--passes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml
from rattler_build import RenderConfig, Stage0Recipe, VariantConfig
from rattler_build.tool_config import PlatformConfig

ARCHES = {"64", "aarch64", "ppc64le", "arm64"}


def platform_of(ci_support: Path) -> str:
    """target_platform of a .ci_support file, else the one its file name stands for."""
    data = yaml.safe_load(ci_support.read_text()) or {}
    value = data.get("target_platform")
    if isinstance(value, list) and value:
        return str(value[0])
    parts = ci_support.stem.split("_")
    arch = parts[1] if len(parts) > 1 and parts[1] in ARCHES else "64"
    return f"{parts[0]}-{arch}"


def pairs(root: Path) -> list[tuple[Path, list[tuple[Path, str]]]]:
    """Every v1 feedstock with its .ci_support files and their target platforms."""
    out = []
    for feedstock in sorted(root.iterdir()):
        recipe = feedstock / "recipe" / "recipe.yaml"
        if not recipe.is_file():
            continue
        variants = sorted((feedstock / ".ci_support").glob("*.yaml"))
        out.append((recipe, [(v, platform_of(v)) for v in variants]))
    return out


def one_pass(work: list[tuple[Path, list[tuple[Path, str]]]]) -> list[str]:
    """Renders every pair once; returns the failures."""
    failures = []
    for recipe_path, variants in work:
        try:
            recipe = Stage0Recipe.from_file(recipe_path)
        except Exception as e:  # noqa: BLE001 - a failed parse is a failed pair
            failures.extend(f"{v}: parse: {e}" for v, _ in variants)
            continue
        for variant_path, platform in variants:
            try:
                variant_config = VariantConfig.from_file(variant_path)
                config = RenderConfig(platform=PlatformConfig(target_platform=platform))
                recipe.render(variant_config, config)
            except Exception as e:  # noqa: BLE001
                failures.append(f"{variant_path}: {type(e).__name__}: {e}")
    return failures


def main() -> int:
    here = Path(__file__).resolve().parent
    default_root = here.parent.parent.parent / "shared" / "data" / "feedstocks"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feedstocks", nargs="?", type=Path, default=default_root)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if not args.feedstocks.is_dir():
        print(f"skipping: {args.feedstocks} is absent", file=sys.stderr)
        return 0

    work = pairs(args.feedstocks)
    total = sum(len(v) for _, v in work)
    times = []
    cpu_times = []
    failures: list[str] = []
    for _ in range(args.passes):
        start, cpu_start = time.perf_counter(), time.process_time()
        failures = one_pass(work)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"feedstocks: {len(work)}")
    print(f"pairs: {total}")
    print(f"failed pairs: {len(failures)}")
    print(f"passes: {', '.join(f'{t:.3f}' for t in times)}")
    print(f"median of {args.passes} passes: {statistics.median(times):.3f} s")
    print(f"median CPU time of a pass: {statistics.median(cpu_times):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
