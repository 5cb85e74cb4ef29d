"""The README's diagrams are the ones the code generates (docs follow the tables)."""

from pathlib import Path

from statemachine.diagrams import mermaid_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_embeds_the_current_lifecycle_diagrams():
    assert mermaid_markdown("all") in README.read_text(), "run `orderpilot diagram` into README"
