"""Build the classroom handout: static HTML pages of the executed notebooks plus an index.

    python tools/build_handout.py --source build/notebooks --output build/handout [--solutions]

``--source`` holds the executed notebooks of the last ``make run-all`` together with
``timings.json`` and each notebook's headline figures (``NN_name.json``, written by
``rnnkit.results.save_headline``). Pages embed their figures (PNG data URIs) and styles, so the
handout reads with no network: TeX in Markdown cells (``$...$``, ``$$...$$``) is converted to
MathML at build time (latex2mathml), which browsers render natively, and the pages carry no
scripts (nbconvert's template would load MathJax, require.js and mermaid from a CDN). Solutions are left out unless ``--solutions`` is given; they are
taken from ``<source>/solutions/`` if executed there, else from the committed outputs in
``notebooks/solutions/``.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import sys
from pathlib import Path

import nbformat
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert import HTMLExporter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rnnkit.results import load_headlines  # noqa: E402

NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 980px; margin: 2em auto;
       padding: 0 1em; line-height: 1.5; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 10px; }
th { background: #f2f2f2; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
.notebook { margin: 1.5em 0; } .meta { color: #555; font-size: 0.9em; }
nav.handout { font-family: system-ui, sans-serif; padding: 8px 16px; background: #f5f5f5;
              border-bottom: 1px solid #ddd; }
"""


def summary_of(notebook: nbformat.NotebookNode) -> tuple[str, str]:
    """Title (first heading) and first paragraph of a notebook's first markdown cell."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        title = lines[0].lstrip("# ").strip() if lines else "untitled"
        paragraph, started = [], False
        for line in lines[1:]:
            if line.strip():
                started = True
                paragraph.append(line.strip())
            elif started:
                break
        return title, " ".join(paragraph)
    return "untitled", ""


def markdown_inline(text: str) -> str:
    """The little Markdown a summary paragraph uses: **bold**, *italic*, `code`, and TeX formulas
    (to MathML by :func:`tex_to_mathml`, as on the pages)."""
    formulas: list[str] = []
    text = html.escape(tex_to_mathml(text, where="summary", formulas=formulas))  # placeholders survive escaping
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    text = re.sub(r"(?<!\*)\*(?!\*)(.+?)\*", r"<em>\1</em>", text)
    return PLACEHOLDER.sub(lambda match: formulas[int(match.group(1))], text)


def error_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    return [f"cell {i}: {output.get('ename')}: {output.get('evalue')}"
            for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]


#: Code (fenced blocks, inline spans) is left alone: a ``$`` there is not math.
CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
#: ``$$display$$`` or ``$inline$``, by pandoc's rules: not ``\$``; an inline formula has no space just inside its
#: ``$`` signs, and its closing ``$`` is not followed by a digit.
MATH = re.compile(r"(?<!\\)\$\$(.+?)\$\$|(?<![\\$])\$(?![\s$])(.+?)(?<![\\\s])\$(?!\d)", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.S | re.I)


def tex_to_mathml(markdown: str, *, where: str = "markdown", formulas: list[str] | None = None) -> str:
    """Replace every TeX formula of a Markdown text by MathML (``display="block"`` for ``$$``).

    With ``formulas`` given, each formula becomes a placeholder ``MATHMLFORMULA<i>END`` instead and
    its MathML is appended to the list: the Markdown renderer then cannot break the MathML apart
    (nbconvert re-parses inline HTML tag by tag); :func:`export_page` puts it back afterwards.
    Raises ``ValueError`` naming ``where`` and the formula when latex2mathml cannot convert it.
    """

    def convert(match: re.Match) -> str:
        display, inline = match.group(1), match.group(2)
        tex = display if display is not None else inline
        try:
            mathml = latex_to_mathml(tex.strip(), display="block" if display is not None else "inline")
        except Exception as error:  # latex2mathml raises several exception types
            raise ValueError(f"{where}: cannot convert the formula ${tex}$ to MathML ({error})") from error
        mathml = mathml.replace("\n", "")
        unconverted = re.search(r"\\[A-Za-z]+", mathml)
        if unconverted:  # latex2mathml passes some commands it does not know through as text
            raise ValueError(f"{where}: latex2mathml left {unconverted.group(0)} unconverted in ${tex}$")
        if formulas is None:
            return mathml
        formulas.append(mathml)
        return f"MATHMLFORMULA{len(formulas) - 1}END"

    parts = CODE.split(markdown)
    return "".join(part if index % 2 else MATH.sub(convert, part) for index, part in enumerate(parts))


PLACEHOLDER = re.compile(r"MATHMLFORMULA(\d+)END")


def export_page(notebook: nbformat.NotebookNode, title: str) -> str:
    notebook, formulas = copy.deepcopy(notebook), []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            cell.source = tex_to_mathml(cell.source, where=f"{title}, cell {index}", formulas=formulas)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    body = PLACEHOLDER.sub(lambda match: formulas[int(match.group(1))], body)
    body = SCRIPT.sub("", body)  # MathJax, require.js, mermaid: CDN scripts a static, offline page does not need
    nav = (f'<nav class="handout"><a href="index.html">&larr; Course index</a> &middot; '
           f"{html.escape(title)}</nav>")
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def build(source: Path, output: Path, *, solutions: bool = False) -> list[Path]:
    """Write the handout; returns the pages written (index first)."""
    notebooks = sorted(p for p in source.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))
    if not notebooks:
        raise SystemExit(f"{source}: no executed notebooks (NN_name.ipynb). Run `make run-all` first.")
    timings_file = source / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    headlines = load_headlines(source)
    output.mkdir(parents=True, exist_ok=True)
    pages, sections, result_rows = [], [], []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        errors = error_outputs(notebook)
        if errors:
            raise SystemExit(f"{path}: has error output, refusing to hand it out:\n  " + "\n  ".join(errors))
        title, paragraph = summary_of(notebook)
        page = output / f"{path.stem}.html"
        page.write_text(export_page(notebook, title), encoding="utf-8")
        pages.append(page)
        runtime = [f"{seconds / 60:.1f} min ({profile} profile, 2 cores)" for profile, per_notebook in sorted(timings.items())
                   for name, seconds in per_notebook.items() if Path(name).name == path.name]
        links = [f'<a href="{page.name}">{html.escape(title)}</a>']
        if solutions:
            solved = next((candidate for candidate in (source / "solutions" / path.name, REPO / "notebooks" / "solutions" / path.name)
                           if candidate.is_file()), None)
            if solved is not None:
                solution_page = output / f"{path.stem}_solutions.html"
                solution_notebook = nbformat.read(solved, as_version=4)
                solution_page.write_text(export_page(solution_notebook, summary_of(solution_notebook)[0]), encoding="utf-8")
                pages.append(solution_page)
                links.append(f'<a href="{solution_page.name}">solutions</a>')
        sections.append(
            f'<div class="notebook"><h3>{" &middot; ".join(links)}</h3><p>{markdown_inline(paragraph)}</p>'
            f'<p class="meta">Run time: {", ".join(runtime) or "not recorded"}</p></div>'
        )
        recorded = headlines.get(path.stem)
        if recorded:
            for name, figure in recorded["figures"].items():
                value = figure["value"]
                shown = f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))
                result_rows.append(
                    f'<tr><td><a href="{page.name}">{path.stem}</a></td><td>{html.escape(name)}</td>'
                    f'<td class="number">{shown}</td><td>{html.escape(str(figure.get("detail", "")))}</td>'
                    f'<td>{html.escape(str(recorded.get("profile")))}</td></tr>'
                )
    results_table = (
        "<table><tr><th>notebook</th><th>result</th><th>value</th><th>detail</th><th>profile</th></tr>"
        + "".join(result_rows) + "</table>"
        if result_rows else "<p>No headline figures were recorded by this run.</p>"
    )
    index = output / "index.html"
    index.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Recurrent neural networks — course handout"
        f"</title><style>{STYLE}</style></head><body>"
        "<h1>Recurrent neural networks — course handout</h1>"
        "<p>Each page below is a notebook of the course, executed and saved with its outputs and figures. "
        "Read them in any browser, offline; to run and change them, open the notebooks in JupyterLab "
        "(<code>make lab</code>).</p><h2>Course outline</h2>" + "".join(sections)
        + "<h2>Main results</h2><p>Gathered from the figures each notebook computed and saved in this run "
        "(nothing is retyped).</p>" + results_table + "</body></html>",
        encoding="utf-8",
    )
    return [index, *pages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("build/notebooks"))
    parser.add_argument("--output", type=Path, default=Path("build/handout"))
    parser.add_argument("--solutions", action="store_true", help="include the solution notebooks")
    args = parser.parse_args(argv)
    pages = build(args.source, args.output, solutions=args.solutions)
    print(f"{len(pages)} pages written to {args.output}/ (open {pages[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
