"""Execute notebooks headless with papermill, in order, and report wall times.

    python tools/run_notebooks.py --profile quick --output-dir build/notebooks notebooks/0*.ipynb
    python tools/run_notebooks.py --profile full --in-place notebooks/02_stock.ipynb

Stops at the first failure, naming the notebook and the cell. With ``--output-dir`` the executed
copies and ``timings.json`` land there; ``--in-place`` overwrites the notebooks with their fresh
outputs (full profile, no injected parameters cell) and cleans them with nbstripout so they are
ready to commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import papermill
from papermill.exceptions import PapermillExecutionError

NBSTRIPOUT_EXTRA_KEYS = "metadata.papermill cell.metadata.papermill cell.metadata.execution"


def run(notebook: Path, output: Path, profile: str, *, inject: bool, prepare_only: bool = False) -> float:
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters={"PROFILE": profile} if inject else None,
        kernel_name="python3",
        cwd=str(notebook.parent),
        progress_bar=False,
        prepare_only=prepare_only,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--profile", choices=("quick", "full"), default="full")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--output-dir", type=Path)
    target.add_argument("--in-place", action="store_true")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only inject the parameters (keeping the committed outputs), e.g. for nbval")
    args = parser.parse_args(argv)
    if args.in_place and args.profile != "full":
        parser.error("--in-place writes the committed outputs, which come from the full profile")

    if args.prepare_only:
        if args.in_place:
            parser.error("--prepare-only writes copies: give --output-dir")
        for notebook in args.notebooks:
            relative = notebook.relative_to("notebooks") if notebook.is_relative_to("notebooks") else Path(notebook.name)
            run(notebook, args.output_dir / relative, args.profile, inject=True, prepare_only=True)
        print(f"prepared {len(args.notebooks)} notebook(s) with PROFILE={args.profile!r} in {args.output_dir}")
        return 0
    if args.output_dir is not None:
        # Each notebook's headline figures (rnnkit.results) land next to its executed copy.
        os.environ["RNNKIT_RESULTS_DIR"] = str(args.output_dir.resolve())
    timings: dict[str, float] = {}
    for notebook in args.notebooks:
        if args.in_place:
            output = notebook
        else:
            relative = notebook.relative_to("notebooks") if notebook.is_relative_to("notebooks") else Path(notebook.name)
            output = args.output_dir / relative
        if args.in_place:
            # Committed outputs are computed fresh: each notebook starts from an empty result cache,
            # whatever the shell says (a solutions notebook does not read its notebook's results).
            fresh_cache = tempfile.mkdtemp(prefix="rnnkit-fresh-cache-")
            os.environ["RNNKIT_CACHE_DIR"] = fresh_cache
            print(f"result cache: {fresh_cache} (empty)", flush=True)
        print(f"==> {notebook} (profile {args.profile}) -> {output}", flush=True)
        try:
            seconds = run(notebook, output, args.profile, inject=not args.in_place)
        except PapermillExecutionError as error:
            first_line = next((line for line in error.source.splitlines() if line.strip()), "")
            print(
                f"\nFAILED: {notebook}, cell {error.cell_index} of the executed copy "
                f"(execution count {error.exec_count}), starting {first_line!r}:\n"
                f"  {error.ename}: {error.evalue}\nThe partial output is in {output}.",
                file=sys.stderr,
            )
            return 1
        timings[str(notebook)] = round(seconds, 1)
        print(f"    done in {seconds:.1f} s", flush=True)
        if args.in_place:
            subprocess.run(
                [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", "--extra-keys", NBSTRIPOUT_EXTRA_KEYS, str(notebook)],
                check=True,
            )

    print(f"\nWall time per notebook (profile {args.profile}):")
    for name, seconds in timings.items():
        print(f"  {seconds:8.1f} s  {name}")
    print(f"  {sum(timings.values()):8.1f} s  total")
    if args.output_dir is not None:
        record = args.output_dir / "timings.json"
        previous = json.loads(record.read_text()) if record.is_file() else {}
        previous.setdefault(args.profile, {}).update(timings)
        record.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
