"""The README and docs/ stay true to the code: generated diagrams, links that resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from statemachine.diagrams import LIFECYCLES, mermaid_markdown

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
ANCHORED = re.compile(r"\]\(([^)#\s]*)#([^)\s]+)\)")  # [text](page.md#heading), [text](#heading)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def test_the_readme_shows_the_order_diagram_the_table_generates():
    assert f"```mermaid\n{LIFECYCLES['order'].mermaid()}\n```" in README.read_text(), \
        "run `orderpilot diagram order` into README.md"


def test_the_lifecycle_page_shows_every_diagram_the_tables_generate():
    assert mermaid_markdown("all") in (ROOT / "docs" / "lifecycle.md").read_text(), \
        "run `orderpilot diagram all` into docs/lifecycle.md"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_every_relative_link_points_at_a_file_of_the_repository(page: Path):
    broken = [target for target in LINK.findall(page.read_text())
              if "://" not in target and not (page.parent / target).resolve().exists()]
    assert broken == [], f"{page.name} links to files a clone does not have: {broken}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_every_link_to_a_heading_names_a_heading_the_page_has(page: Path):
    broken = [f"{target}#{anchor}" for target, anchor in ANCHORED.findall(page.read_text())
              if "://" not in target and (page.parent / target).suffix in (".md", "")
              and anchor not in heading_anchors((page.parent / target) if target else page)]
    assert broken == [], f"{page.name} links to headings that are not there: {broken}"


def test_every_docs_page_is_linked_from_the_readme_or_another_page():
    linked = {(page.parent / target).resolve() for page in [README, *PAGES]
              for target in LINK.findall(page.read_text()) if "://" not in target
              and (page.parent / target).resolve() != page.resolve()}
    assert [p.name for p in PAGES if p.resolve() not in linked] == []


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces
    as hyphens, `-1`, `-2` after repeats (headings inside code fences are not headings)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (heading := HEADING.match(line)):
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))  # a link's text
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_no_page_points_outside_the_repository(page: Path):
    text = page.read_text()
    assert "../shared" not in text and "/work/" not in text, \
        f"{page.name} names a path that exists only on our machines"


def test_the_readme_is_a_front_door_with_one_tests_section():
    text = README.read_text()
    assert len(text.splitlines()) <= 220, "keep the README a front door; move detail to docs/"
    assert re.findall(r"^#+ Tests$", text, re.MULTILINE) == ["## Tests"]


def test_the_readme_links_every_docs_page():
    text = README.read_text()
    assert [p.name for p in PAGES if f"docs/{p.name}" not in text] == []
