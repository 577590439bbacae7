"""The papermill runner behind `make run-all`: parameters, timings, failures named by cell."""

import importlib.util
import json
from pathlib import Path

import nbformat

RUNNER = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"
spec = importlib.util.spec_from_file_location("run_notebooks", RUNNER)
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def test_runner_passes_profile_and_records_timings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks").mkdir()
    good = write_notebook(tmp_path / "notebooks" / "01_ok.ipynb", 'PROFILE = "full"', "print('profile is', PROFILE)")
    assert run_notebooks.main(["--profile", "quick", "--output-dir", "out", str(good.relative_to(tmp_path))]) == 0
    executed = nbformat.read(tmp_path / "out" / "01_ok.ipynb", as_version=4)
    printed = "".join(output.get("text", "") for cell in executed.cells for output in cell.get("outputs", []))
    assert "profile is quick" in printed
    timings = json.loads((tmp_path / "out" / "timings.json").read_text())
    assert list(timings["quick"]) == ["notebooks/01_ok.ipynb"] and timings["quick"]["notebooks/01_ok.ipynb"] > 0


def test_runner_stops_at_first_failure_naming_notebook_and_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad = write_notebook(tmp_path / "02_bad.ipynb", 'PROFILE = "full"', "x = 1", "raise ValueError('broken data')")
    never = write_notebook(tmp_path / "03_never.ipynb", 'PROFILE = "full"')
    assert run_notebooks.main(["--profile", "quick", "--output-dir", "out", str(bad), str(never)]) == 1
    message = capsys.readouterr().err
    assert "FAILED: " in message and "02_bad.ipynb" in message
    assert "ValueError: broken data" in message
    # index 3 of the executed copy: papermill injects a parameters cell after the tagged one
    assert "cell 3 of the executed copy" in message
    assert "starting \"raise ValueError('broken data')\"" in message
    assert not (tmp_path / "out" / "03_never.ipynb").exists()


def test_prepare_only_injects_the_profile_and_keeps_committed_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    source = write_notebook(tmp_path / "notebooks" / "solutions" / "01_x.ipynb", 'PROFILE = "full"', "print(1)")
    committed = nbformat.read(source, as_version=4)
    committed.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(committed, source)
    assert run_notebooks.main(["--prepare-only", "--profile", "quick", "--output-dir", "prepared",
                               "notebooks/solutions/01_x.ipynb"]) == 0
    prepared = nbformat.read(tmp_path / "prepared" / "solutions" / "01_x.ipynb", as_version=4)
    injected = [cell for cell in prepared.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and 'PROFILE = "quick"' in injected[0].source
    assert prepared.cells[-1].outputs[0]["text"] == "1\n"  # nothing was executed: outputs as committed


def test_in_place_runs_with_an_empty_result_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(tmp_path / "warm-cache"))
    monkeypatch.setattr(run_notebooks.subprocess, "run", lambda *args, **kwargs: None)  # no nbstripout here
    caches = []
    for name in ("03_cache.ipynb", "04_cache.ipynb"):
        notebook = write_notebook(tmp_path / name, 'PROFILE = "full"',
                                  "import os; print('cache at', os.environ['RNNKIT_CACHE_DIR'])")
        caches.append(notebook)
    assert run_notebooks.main(["--in-place", *(str(n.relative_to(tmp_path)) for n in caches)]) == 0
    used = []
    for notebook in caches:
        executed = nbformat.read(notebook, as_version=4)
        printed = "".join(output.get("text", "") for output in executed.cells[1].outputs)
        used.append(Path(printed.split("cache at ")[1].strip()))
    assert all(cache != tmp_path / "warm-cache" and "rnnkit-fresh-cache-" in cache.name for cache in used)
    assert used[0] != used[1]  # one empty cache per notebook
