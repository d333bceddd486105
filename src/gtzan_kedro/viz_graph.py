"""``kedro viz graph``: kedro-viz's JSON of a pipeline and a picture of it, without a server."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
import networkx as nx

logger = logging.getLogger(__name__)

# Colours of the data layers (Kedro's layer names) and of the other kinds of node.
LAYER_COLOURS = {
    "raw": "#f4a261",
    "intermediate": "#e9c46a",
    "primary": "#8ab17d",
    "feature": "#2a9d8f",
    "model_input": "#4d908e",
    "models": "#577590",
    "model_output": "#9d8ec4",
    "reporting": "#e76f51",
}
NO_LAYER_COLOUR = "#bbbbbb"
TASK_COLOUR = "#ffffff"
NAMESPACE_COLOUR = "#dbe9f6"


@click.command(name="graph", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--pipeline",
    "-p",
    "pipeline_name",
    default="__default__",
    show_default=True,
    help="Registered pipeline to draw.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/pipeline-graph"),
    show_default=True,
    help="Folder for <pipeline>.json (kedro-viz's data), <pipeline>.dot and the picture.",
)
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["svg", "png"]),
    default="svg",
    show_default=True,
    help="Format of the picture.",
)
@click.option(
    "--expand-namespaces",
    is_flag=True,
    help="Draw every node of the per-architecture namespaces instead of one box each.",
)
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.pass_obj
def graph(
    metadata: Any,
    *,
    pipeline_name: str,
    output: Path,
    image_format: str,
    expand_namespaces: bool,
    env: str | None,
) -> None:
    """Write the pipeline graph to files (JSON, DOT and SVG/PNG) without starting a server."""
    project_path = Path(getattr(metadata, "project_path", None) or Path.cwd())
    package_name = getattr(metadata, "package_name", None)
    data = viz_json(project_path, pipeline_name, env=env, package_name=package_name)
    written = write_graph(data, output, pipeline_name, image_format, expand_namespaces)
    for path in written:
        click.echo(f"Wrote {path}")
    cycle = layer_cycle(data)
    if cycle:
        click.secho(
            "kedro-viz shows no data layers: they must follow the data, but "
            + "; ".join(f"{source} -> {target} ({via})" for source, target, via in cycle),
            fg="yellow",
            err=True,
        )


def viz_json(
    project_path: Path,
    pipeline_name: str,
    env: str | None = None,
    package_name: str | None = None,
) -> dict[str, Any]:
    """Return kedro-viz's ``/api/pipelines/<pipeline>`` response for the project."""
    # Imported here: they load the project, and kedro-viz's server code.
    from kedro.framework.project import pipelines  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    package_name = package_name or bootstrap_project(project_path).package_name
    registered = sorted(pipelines.keys())
    if pipeline_name not in registered:
        raise click.BadParameter(
            f"Unknown pipeline '{pipeline_name}'. Registered pipelines: {', '.join(registered)}.",
            param_hint="'--pipeline'",
        )
    with warnings.catch_warnings():
        # FastAPI's deprecation warnings about kedro-viz's code are kedro-viz's business.
        warnings.simplefilter("ignore")
        from kedro_viz.api.rest.responses.pipelines import (  # noqa: PLC0415
            get_kedro_project_json_data,
        )
        from kedro_viz.server import load_and_populate_data  # noqa: PLC0415

    load_and_populate_data(project_path, env=env, package_name=package_name)
    return get_kedro_project_json_data(pipeline_name)


def write_graph(
    data: dict[str, Any],
    output: Path,
    pipeline_name: str,
    image_format: str = "svg",
    expand_namespaces: bool = False,
) -> list[Path]:
    """Write ``<pipeline>.json``, ``<pipeline>.dot`` and the picture; return their paths."""
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / f"{pipeline_name}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    visible = visible_graph(data, expand_namespaces)
    dot_path = output / f"{pipeline_name}.dot"
    dot_path.write_text(to_dot(visible, pipeline_name))
    picture = output / f"{pipeline_name}.{image_format}"
    if shutil.which("dot"):
        subprocess.run(["dot", f"-T{image_format}", str(dot_path), "-o", str(picture)], check=True)
    else:
        draw(visible, picture, pipeline_name)
    logger.info("Pipeline graph of '%s' written to '%s'.", pipeline_name, output)
    return [json_path, dot_path, picture]


def visible_graph(data: dict[str, Any], expand_namespaces: bool = False) -> nx.DiGraph:
    """The graph kedro-viz first shows: namespaces collapsed, parameters hidden."""
    nodes = {node["id"]: node for node in data["nodes"]}
    owner = {} if expand_namespaces else _namespace_owners(data["modular_pipelines"])
    graph = nx.DiGraph()
    for node in nodes.values():
        if node["type"] in ("task", "data") and node["id"] not in owner:
            graph.add_node(
                node["id"], kind=node["type"], label=node["name"], layer=node.get("layer")
            )
    for namespace in set(owner.values()):
        members = sum(1 for ns in owner.values() if ns == namespace)
        graph.add_node(namespace, kind="namespace", label=f"{namespace}\n({members} nodes)")
    tree = data["modular_pipelines"]
    for edge in data["edges"]:
        source, target = (owner.get(end, end) for end in (edge["source"], edge["target"]))
        # A namespace's output read again inside it (metrics -> log_metrics) is not an input.
        feeds_back = target in tree and edge["source"] in tree[target]["outputs"]
        if source != target and source in graph and target in graph and not feeds_back:
            graph.add_edge(source, target)
    return graph


def layer_cycle(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Layers that feed back into themselves (kedro-viz then draws none), as edges with an example.

    Each edge is ``(layer, next layer, "input -> node -> output")`` for a node that reads a
    dataset of one layer and writes one of another; an empty list means the layers can be
    ordered the way the data flows.
    """
    nodes = {node["id"]: node for node in data["nodes"]}
    successors: dict[str, list[str]] = defaultdict(list)
    for edge in data["edges"]:
        successors[edge["source"]].append(edge["target"])
    layers = nx.DiGraph()
    for source in nodes.values():
        for task in successors[source["id"]] if source.get("layer") else []:
            for target in (nodes[output] for output in successors[task]):
                if target.get("layer") and target["layer"] != source["layer"]:
                    via = f"{source['name']} -> {nodes[task]['name']} -> {target['name']}"
                    layers.add_edge(source["layer"], target["layer"], via=via)
    try:
        cycle = nx.find_cycle(layers)
    except nx.NetworkXNoCycle:
        return []
    return [(source, target, layers.edges[source, target]["via"]) for source, target in cycle]


def _namespace_owners(tree: dict[str, Any]) -> dict[str, str]:
    """Map each node inside a top-level namespace to that namespace's id."""
    owners: dict[str, str] = {}

    def collect(namespace_id: str, top: str) -> None:
        for child in tree[namespace_id]["children"]:
            if child["type"] == "modularPipeline":
                collect(child["id"], top)
            else:
                owners[child["id"]] = top

    for child in tree["__root__"]["children"]:
        if child["type"] == "modularPipeline":
            collect(child["id"], child["id"])
    return owners


def to_dot(graph: nx.DiGraph, title: str) -> str:
    """Graphviz source of the graph, left to right, datasets coloured by layer."""
    lines = [
        f'digraph "{title}" {{',
        '  rankdir=LR; nodesep=0.15; ranksep=0.5; fontname="Helvetica";',
        '  node [fontname="Helvetica", fontsize=10, style="filled,rounded", shape=box];',
    ]
    for node_id, attrs in graph.nodes(data=True):
        label = attrs["label"].replace("\n", "\\n")
        lines.append(f'  "{node_id}" [label="{label}", {_dot_style(attrs)}];')
    lines.extend(f'  "{source}" -> "{target}";' for source, target in graph.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_style(attrs: dict[str, Any]) -> str:
    """Graphviz attributes of one node."""
    if attrs["kind"] == "task":
        return f'fillcolor="{TASK_COLOUR}", penwidth=1.5'
    if attrs["kind"] == "namespace":
        return f'fillcolor="{NAMESPACE_COLOUR}", penwidth=2'
    return f'fillcolor="{LAYER_COLOURS.get(attrs.get("layer"), NO_LAYER_COLOUR)}", shape=ellipse'


def layered_positions(graph: nx.DiGraph, sweeps: int = 4) -> dict[str, tuple[float, float]]:
    """Left-to-right layers by longest path, ordered within a layer to cut edge crossings."""
    rank: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        rank[node] = max((rank[parent] + 1 for parent in graph.predecessors(node)), default=0)
    for node in graph:  # inputs of the pipeline sit just before their first reader
        if graph.in_degree(node) == 0 and graph.out_degree(node) > 0:
            rank[node] = min(rank[child] for child in graph.successors(node)) - 1
    layers: dict[int, list[str]] = defaultdict(list)
    for node, layer in rank.items():
        layers[layer].append(node)
    order = {node: index for nodes in layers.values() for index, node in enumerate(nodes)}
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        for layer in sorted(layers, reverse=not forward):
            neighbours = graph.predecessors if forward else graph.successors
            layers[layer].sort(key=lambda node: _barycentre(node, neighbours, order))
            order.update({node: index for index, node in enumerate(layers[layer])})
    return {
        node: (float(layer), (len(nodes) - 1) / 2 - index)
        for layer, nodes in layers.items()
        for index, node in enumerate(nodes)
    }


def _barycentre(node: str, neighbours: Any, order: dict[str, int]) -> float:
    """Mean position of a node's neighbours in the adjacent layer (its own without any)."""
    positions = [order[other] for other in neighbours(node)]
    return sum(positions) / len(positions) if positions else order[node]


def draw(graph: nx.DiGraph, path: Path, title: str) -> None:
    """Draw the layered graph with matplotlib into ``path`` (SVG or PNG)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    positions = layered_positions(graph)
    n_layers = 1 + max((x for x, _ in positions.values()), default=0)
    height = 1 + max((abs(y) for _, y in positions.values()), default=0) * 2
    figure, axes = plt.subplots(figsize=(max(8, 2.6 * n_layers), max(4, 0.55 * height)))
    # Layers run left to right, so plain lines say which way the data flows.
    nx.draw_networkx_edges(graph, positions, ax=axes, edge_color="#999999", arrows=False, width=0.8)
    for node, (x, y) in positions.items():
        attrs = graph.nodes[node]
        axes.text(x, y, attrs["label"], ha="center", va="center", fontsize=7, bbox=_box(attrs))
    legend = [
        Patch(facecolor=colour, edgecolor="#333333", label=layer)
        for layer, colour in LAYER_COLOURS.items()
        if any(attrs.get("layer") == layer for _, attrs in graph.nodes(data=True))
    ]
    legend.append(Patch(facecolor=TASK_COLOUR, edgecolor="#333333", label="node"))
    if any(attrs["kind"] == "namespace" for _, attrs in graph.nodes(data=True)):
        legend.append(
            Patch(facecolor=NAMESPACE_COLOUR, edgecolor="#333333", label="namespace (collapsed)")
        )
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes.set_title(f"Pipeline '{title}' (data flows left to right)")
    axes.axis("off")
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def _box(attrs: dict[str, Any]) -> dict[str, Any]:
    """Matplotlib text box of one node: rounded for nodes and namespaces, coloured by layer."""
    if attrs["kind"] == "task":
        return {"boxstyle": "round,pad=0.3", "facecolor": TASK_COLOUR, "edgecolor": "#333333"}
    if attrs["kind"] == "namespace":
        return {"boxstyle": "round,pad=0.5", "facecolor": NAMESPACE_COLOUR, "edgecolor": "#1d3557"}
    colour = LAYER_COLOURS.get(attrs.get("layer"), NO_LAYER_COLOUR)
    return {"boxstyle": "round4,pad=0.3", "facecolor": colour, "edgecolor": "#555555"}
