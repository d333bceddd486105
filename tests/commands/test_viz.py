"""`kedro viz` in headless Chromium, and `kedro viz graph` writing the graph to files."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import click
import pytest

from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.viz_graph import layer_cycle, visible_graph, viz_json, write_graph
from tests.commands.conftest import (
    ARTIFACTS,
    CHROMIUM_FLAGS,
    background,
    free_port,
    require_chromium,
    run_command,
    wait_for_http,
)
from tests.conftest import PROJECT_ROOT

# Kedro's data layers, all of which the project's datasets use, in the order data flows.
LAYERS = [
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
]


def registered_pipelines() -> dict[str, Any]:
    """The project's registered pipelines, by name."""
    from kedro.framework.project import configure_project  # noqa: PLC0415

    from gtzan_kedro.pipeline_registry import register_pipelines  # noqa: PLC0415

    configure_project("gtzan_kedro")
    return register_pipelines()


def node_names(pipeline: str) -> set[str]:
    """Names of a registered pipeline's nodes as kedro-viz labels them (namespace left out)."""
    return {node.name.rsplit(".", 1)[-1] for node in registered_pipelines()[pipeline].nodes}


@pytest.fixture(scope="module")
def default_graph() -> dict[str, Any]:
    """kedro-viz's data of the project's default pipeline."""
    return viz_json(PROJECT_ROOT, "__default__")


def test_every_dataset_has_a_data_layer(default_graph: dict[str, Any]):
    unlayered = [
        node["name"]
        for node in default_graph["nodes"]
        if node["type"] == "data" and not node["layer"]
    ]

    assert unlayered == []


def test_data_layers_follow_the_data_so_kedro_viz_can_draw_them(default_graph: dict[str, Any]):
    # A node that reads a later layer and writes an earlier one makes the layers a cycle, and
    # kedro-viz then draws no layers at all.
    assert layer_cycle(default_graph) == []
    assert [layer for layer in default_graph["layers"] if layer in LAYERS] == LAYERS


@pytest.mark.slow
def test_viz_graph_writes_kedro_viz_json_and_a_picture(plain_project: Path):
    result = run_command("kedro", "viz", "graph", "--output", "graph", cwd=plain_project)

    assert result.returncode == 0, result.stdout + result.stderr
    output = plain_project / "graph"
    data = json.loads((output / "__default__.json").read_text())
    assert {pipeline["id"] for pipeline in data["pipelines"]} == set(registered_pipelines())
    assert set(ARCHITECTURES) <= set(data["modular_pipelines"])
    svg = (output / "__default__.svg").read_text()
    assert all(name in svg for name in node_names("ingestion") | set(ARCHITECTURES))
    assert "digraph" in (output / "__default__.dot").read_text()


def test_viz_graph_draws_png_with_namespaces_collapsed_or_expanded(tmp_path: Path):
    data = {
        "nodes": [
            {"id": "a", "name": "features", "type": "data", "layer": "model_input"},
            {"id": "t1", "name": "train_model", "type": "task", "layer": None},
            {"id": "m", "name": "lstm.model", "type": "data", "layer": "models"},
            {"id": "t2", "name": "evaluate", "type": "task", "layer": None},
            {"id": "s", "name": "lstm.metrics", "type": "data", "layer": "reporting"},
            {"id": "t3", "name": "compare", "type": "task", "layer": None},
            {"id": "p", "name": "params:seed", "type": "parameters", "layer": None},
            {"id": "lstm", "name": "lstm", "type": "modularPipeline", "layer": None},
        ],
        "edges": [
            {"source": "a", "target": "t1"},
            {"source": "p", "target": "t1"},
            {"source": "t1", "target": "m"},
            {"source": "m", "target": "t2"},
            {"source": "t2", "target": "s"},
            {"source": "s", "target": "t3"},
            {"source": "a", "target": "lstm"},
        ],
        "modular_pipelines": {
            "__root__": {"children": [{"id": "lstm", "type": "modularPipeline"}]},
            "lstm": {
                "children": [{"id": i, "type": "task"} for i in ("t1", "t2")]
                + [{"id": "m", "type": "data"}],
                "inputs": ["a", "p"],
                "outputs": ["s"],
            },
        },
    }

    collapsed = visible_graph(data)
    expanded = visible_graph(data, expand_namespaces=True)
    written = write_graph(data, tmp_path, "demo", image_format="png")

    assert set(collapsed.edges) == {("a", "lstm"), ("lstm", "s"), ("s", "t3")}
    assert set(expanded.edges) == {("a", "t1"), ("t1", "m"), ("m", "t2"), ("t2", "s"), ("s", "t3")}
    assert [path.name for path in written] == ["demo.json", "demo.dot", "demo.png"]
    assert (tmp_path / "demo.png").read_bytes().startswith(b"\x89PNG")


def test_viz_graph_draws_with_graphviz_when_dot_is_installed(tmp_path: Path, monkeypatch):
    # A stand-in for Graphviz's dot that records its arguments as the "picture".
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text('#!/bin/sh\necho "$@" > "$4"\n')
    (bin_dir / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    data = {"nodes": [], "edges": [], "modular_pipelines": {"__root__": {"children": []}}}

    write_graph(data, tmp_path / "out", "empty", image_format="svg")

    picture = tmp_path / "out" / "empty.svg"
    assert picture.read_text().split() == [
        "-Tsvg",
        str(tmp_path / "out" / "empty.dot"),
        "-o",
        str(picture),
    ]


def test_viz_graph_rejects_an_unknown_pipeline_listing_the_registered_ones():
    with pytest.raises(click.BadParameter) as error:
        viz_json(PROJECT_ROOT, "nope")

    assert "Unknown pipeline 'nope'. Registered pipelines: __default__, feature_engineering" in str(
        error.value
    )


@pytest.mark.slow
def test_kedro_viz_shows_every_pipeline_in_chromium(plain_project: Path, tmp_path: Path):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "kedro-viz.log"
    ARTIFACTS.mkdir(exist_ok=True)
    command = ("kedro", "viz", "run", "--no-browser", "--host", "127.0.0.1", "--port", str(port))
    with (
        background(*command, cwd=plain_project, log=log) as server,
        sync_playwright() as playwright,
    ):
        wait_for_http(f"{base}/api/main", server, log)
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        # The default view: namespaces collapsed into one group each, datasets in their layers.
        flowchart = show(page, base + "/")
        assert set(ARCHITECTURES) <= set(flowchart.split("\n"))
        layers = page.locator(".pipeline-layer-name").all_text_contents()
        assert layers, "no data layers drawn (see test_data_layers_follow_the_data...)"
        assert [layer for layer in layers if layer in LAYERS] == [
            layer for layer in LAYERS if layer in layers
        ]  # in the order data flows
        # No update check against PyPI: the server reports itself as the latest, no banner.
        with urllib.request.urlopen(f"{base}/api/version", timeout=30) as response:
            version = json.loads(response.read())
        assert (version["latest"], version["is_outdated"]) == (version["installed"], False)
        assert "is here!" not in page.content()
        page.screenshot(path=ARTIFACTS / "kedro-viz.png")

        for pipeline in sorted(set(registered_pipelines()) - {"__default__"}):
            labels = set(show(page, f"{base}/?pid={pipeline}&expandAllPipelines=true").split("\n"))
            assert node_names(pipeline) <= labels, pipeline
            layers += page.locator(".pipeline-layer-name").all_text_contents()
            page.screenshot(path=ARTIFACTS / f"kedro-viz-{pipeline}.png")
        browser.close()
    assert set(LAYERS) <= set(layers)  # every layer shows, collapsed or expanded


def show(page, url: str) -> str:
    """Open ``url``, wait for the graph to be drawn and return the flowchart's labels."""
    page.goto(url)
    page.wait_for_selector(".pipeline-node", timeout=60_000)
    page.wait_for_timeout(500)  # the layout settles
    hints = page.locator(".feature-hints__close")
    if hints.count():
        hints.first.click()  # the feature tour covers part of the graph
    return page.locator(".pipeline-flowchart").inner_text()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_without_chromium_the_browser_test_skips_but_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setattr("tests.commands.conftest.CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="Chromium is not installed"):
        require_chromium()
