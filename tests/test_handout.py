"""tools/build_handout.py: the classroom handout.

The first tests build a handout from small hand-made executed notebooks. The last one checks a
handout built from a real quick run of every notebook: `make handout-test` (part of `make test`)
executes them into build/quick and points RNNKIT_HANDOUT_SOURCE at it.
"""

import base64
import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("build_handout", REPO / "tools" / "build_handout.py")
build_handout = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_handout)

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "0001e221bc330000000049454e44ae426082")).decode()


def executed_notebook(path: Path, title: str, *, error: bool = False) -> None:
    cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nA **short** summary with `code`.\n\nMore text."),
             nbformat.v4.new_code_cell("plot()", execution_count=1, outputs=[
                 nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])]
    if error:
        cells.append(nbformat.v4.new_code_cell("1/0", execution_count=2, outputs=[
            nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def index_links(index: Path) -> list[str]:
    return re.findall(r'href="([^"#:]+\.html)"', index.read_text(encoding="utf-8"))


def test_handout_pages_index_and_results(tmp_path):
    source, output = tmp_path / "run", tmp_path / "handout"
    executed_notebook(source / "01_alpha.ipynb", "01 · Alpha")
    executed_notebook(source / "02_beta.ipynb", "02 · Beta")
    (source / "timings.json").write_text(json.dumps({"quick": {"notebooks/01_alpha.ipynb": 90.0}}))
    (source / "01_alpha.json").write_text(json.dumps(
        {"notebook": "01_alpha", "profile": "quick", "figures": {"accuracy": {"value": 0.9123, "detail": "seed 0"}}}))
    pages = build_handout.build(source, output)
    assert [p.name for p in pages] == ["index.html", "01_alpha.html", "02_beta.html"]
    index = (output / "index.html").read_text(encoding="utf-8")
    assert "01 · Alpha" in index and "A <strong>short</strong> summary with <code>code</code>." in index
    assert "1.5 min (quick profile, 2 cores)" in index and "not recorded" in index  # 02 has no timing
    assert "<td class=\"number\">0.9123</td>" in index and "seed 0" in index
    assert index_links(output / "index.html") == ["01_alpha.html", "02_beta.html", "01_alpha.html"]
    page = (output / "01_alpha.html").read_text(encoding="utf-8")
    assert f"data:image/png;base64,{PNG}" in page.replace("\n", "")
    assert 'href="index.html"' in page
    assert not (output / "01_alpha_solutions.html").exists()


def test_tex_becomes_mathml_and_pages_load_nothing_from_the_network(tmp_path):
    source, output = tmp_path / "run", tmp_path / "handout"
    executed_notebook(source / "01_alpha.ipynb", "01 · Alpha")
    notebook = nbformat.read(source / "01_alpha.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(
        "Square: $x^2$. Sum: $$\\sum_{t=1}^{T} \\ell_t$$ Code keeps `$HOME`.\n\n| a | b |\n|---|---|\n| $h_t$ | 1 |"))
    nbformat.write(notebook, source / "01_alpha.ipynb")
    build_handout.build(source, output)
    page = (output / "01_alpha.html").read_text(encoding="utf-8")
    inline = re.search(r'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">(.*?)</math>', page)
    assert inline and "<msup><mi>x</mi><mn>2</mn></msup>" in inline.group(1)
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in page and "&#x02211;" in page
    assert re.search(r"<td[^>]*><math[^>]*>.*?<msub><mi>h</mi><mi>t</mi></msub>", page)  # math inside a table cell
    assert "<code>$HOME</code>" in page and "$x^2$" not in page
    assert "<script" not in page.lower()  # no MathJax, require.js or mermaid from a CDN
    assert not re.search(r'(?:src|href)="https?://', page), "the page loads something from the network"


def test_tex_to_mathml_leaves_code_and_escaped_dollars():
    text = "a `$x$` b \\$ c $y$ d\n```\n$z$\n```"
    converted = build_handout.tex_to_mathml(text)
    assert "`$x$`" in converted and "\\$ c" in converted and "```\n$z$\n```" in converted
    assert converted.count("<math") == 1 and "<mi>y</mi>" in converted


def test_tex_that_latex2mathml_cannot_convert_is_named():
    with pytest.raises(ValueError, match=r"01_alpha, cell 3: latex2mathml left \\lVert unconverted"):
        build_handout.tex_to_mathml("norm $\\big\\lVert x \\big\\rVert$", where="01_alpha, cell 3")


def test_solutions_only_on_request(tmp_path):
    source, output = tmp_path / "run", tmp_path / "handout"
    executed_notebook(source / "01_alpha.ipynb", "01 · Alpha")
    executed_notebook(source / "solutions" / "01_alpha.ipynb", "01 · Solutions")
    pages = build_handout.build(source, output, solutions=True)
    assert [p.name for p in pages] == ["index.html", "01_alpha.html", "01_alpha_solutions.html"]
    assert "01_alpha_solutions.html" in index_links(output / "index.html")


def test_error_output_is_refused(tmp_path):
    executed_notebook(tmp_path / "run" / "01_alpha.ipynb", "01 · Alpha", error=True)
    with pytest.raises(SystemExit, match=r"(?s)01_alpha.ipynb: has error output.*cell 2: ZeroDivisionError: division by zero"):
        build_handout.build(tmp_path / "run", tmp_path / "handout")


def test_empty_source_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="Run `make run-all` first"):
        build_handout.build(tmp_path, tmp_path / "handout")


REAL_RUN = os.environ.get("RNNKIT_HANDOUT_SOURCE")


@pytest.mark.skipif(not REAL_RUN, reason="needs executed notebooks: run `make handout-test`")
def test_handout_from_a_real_quick_run(tmp_path):
    source = REPO / REAL_RUN if not Path(REAL_RUN).is_absolute() else Path(REAL_RUN)
    notebooks = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    pages = build_handout.build(source, tmp_path / "handout", solutions=True)
    names = {p.name for p in pages}
    for notebook in notebooks:
        stem = notebook.removesuffix(".ipynb")
        assert f"{stem}.html" in names
        page = (tmp_path / "handout" / f"{stem}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64," in page, f"{stem}: no embedded figure"
        assert "Traceback (most recent call last)" not in page
        assert not re.search(r'<img[^>]+src="(?!data:)', page), f"{stem}: an image is not embedded"
        assert "<script" not in page and not re.search(r'(?:src|href)="https?://', page), f"{stem}: needs the network"
        markdown = [cell.source for cell in nbformat.read(REPO / "notebooks" / notebook, as_version=4).cells
                    if cell.cell_type == "markdown"]
        has_tex = any(build_handout.MATH.search(part) for text in markdown
                      for part in build_handout.CODE.split(text)[::2])
        assert not has_tex or "<math" in page, f"{stem}: has TeX but no MathML"
    for link in index_links(tmp_path / "handout" / "index.html"):
        assert (tmp_path / "handout" / link).is_file(), link
    index = (tmp_path / "handout" / "index.html").read_text(encoding="utf-8")
    for notebook in ("02_stock", "03_sentiment", "04_pos_tagging"):  # notebooks that save headline figures
        assert f'<a href="{notebook}.html">{notebook}</a>' in index


def test_summary_formulas_become_mathml_and_markdown_still_works():
    out = build_handout.markdown_inline("a cost of $O(n^4)$ per step, **bold** and `x < y`")
    assert "$" not in out and out.count("<math") == 1 and "<msup>" in out
    assert "<strong>bold</strong>" in out and "<code>x &lt; y</code>" in out
