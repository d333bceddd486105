"""``kedro viz graph``: kedro-viz's export of a pipeline (``kedro viz build``) as JSON, DOT and a
picture drawn by Graphviz, without a server."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import networkx as nx

# networkx, graphviz, matplotlib and the project's datasets are imported where they are used:
# Kedro imports this module (through the project's cli.py) before every command, and they take
# a second or more to load.

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
    """Write the pipeline graph to files (JSON, DOT and SVG/PNG) without starting a server.

    Runs `kedro viz build` (kedro-viz's static export, left in build/) and draws the pipeline
    it exported.
    """
    project_path = Path(getattr(metadata, "project_path", None) or Path.cwd())
    data = pipeline_json(build_viz_api(project_path, env), pipeline_name)
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


def build_viz_api(project_path: Path, env: str | None = None) -> Path:
    """Run ``kedro viz build`` in the project; return the folder of kedro-viz's API responses.

    kedro-viz reports a failed build on its output but exits with 0, so success is a freshly
    written ``build/api/main``.
    """
    api = project_path / "build" / "api"
    before = _modified(api / "main")
    environment = {**os.environ, "KEDRO_ENV": env} if env else None
    finished = subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build"],
        cwd=project_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0 or _modified(api / "main") in (None, before):
        raise click.ClickException(
            f"`kedro viz build` in {project_path} wrote no pipeline data: "
            + _failure(finished.stdout + finished.stderr)
        )
    return api


def pipeline_json(api: Path, pipeline_name: str) -> dict[str, Any]:
    """kedro-viz's exported data of one registered pipeline (its ``/api/pipelines/<id>``)."""
    main = json.loads((api / "main").read_text())
    registered = sorted(pipeline["id"] for pipeline in main["pipelines"])
    if pipeline_name not in registered:
        raise click.BadParameter(
            f"Unknown pipeline '{pipeline_name}'. Registered pipelines: {', '.join(registered)}.",
            param_hint="'--pipeline'",
        )
    return json.loads((api / "pipelines" / pipeline_name).read_text())


def write_graph(
    data: dict[str, Any],
    output: Path,
    pipeline_name: str,
    image_format: str = "svg",
    expand_namespaces: bool = False,
) -> list[Path]:
    """Write ``<pipeline>.json``, ``<pipeline>.dot`` and the picture; return their paths."""
    import fsspec  # noqa: PLC0415 - see the module's imports
    import graphviz  # noqa: PLC0415

    from gtzan_kedro.datasets._fs import write_atomically  # noqa: PLC0415

    visible = visible_graph(data, expand_namespaces)
    dot = to_dot(visible, pipeline_name)
    try:
        picture = dot.pipe(format=image_format)
    except graphviz.ExecutableNotFound:
        logger.warning(
            "Graphviz's `dot` is not installed (apt-get install graphviz, brew install "
            "graphviz): the picture is drawn by matplotlib instead."
        )
        picture = draw(visible, image_format, pipeline_name)
    paths = [output / f"{pipeline_name}.{suffix}" for suffix in ("json", "dot", image_format)]
    contents = [(json.dumps(data, indent=2) + "\n").encode(), dot.source.encode(), picture]
    filesystem = fsspec.filesystem("file")
    for path, content in zip(paths, contents, strict=True):
        write_atomically(
            filesystem, str(path), lambda stream, content=content: stream.write(content)
        )
    logger.info("Pipeline graph of '%s' written to '%s'.", pipeline_name, output)
    return paths


def visible_graph(data: dict[str, Any], expand_namespaces: bool = False) -> nx.DiGraph:
    """The graph kedro-viz first shows: namespaces collapsed, parameters hidden."""
    import networkx as nx  # noqa: PLC0415 - see the module's imports

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
    import networkx as nx  # noqa: PLC0415 - see the module's imports

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


def to_dot(graph: nx.DiGraph, title: str) -> Any:
    """The graph as a ``graphviz.Digraph``: left to right, datasets coloured by layer."""
    import graphviz  # noqa: PLC0415 - see the module's imports

    dot = graphviz.Digraph(
        title,
        graph_attr={"rankdir": "LR", "nodesep": "0.15", "ranksep": "0.5", "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled,rounded"},
    )
    for node_id, attrs in graph.nodes(data=True):
        # DOT's own line break: graphviz passes backslash escapes through.
        dot.node(node_id, attrs["label"].replace("\n", r"\n"), **_dot_style(attrs))
    dot.edges(graph.edges)
    return dot


def _dot_style(attrs: dict[str, Any]) -> dict[str, str]:
    """Graphviz attributes of one node."""
    if attrs["kind"] == "task":
        return {"shape": "box", "fillcolor": TASK_COLOUR, "penwidth": "1.5"}
    if attrs["kind"] == "namespace":
        return {"shape": "box", "fillcolor": NAMESPACE_COLOUR, "penwidth": "2"}
    return {"shape": "ellipse", "fillcolor": LAYER_COLOURS.get(attrs["layer"], NO_LAYER_COLOUR)}


def draw(graph: nx.DiGraph, image_format: str, title: str) -> bytes:
    """The graph drawn by matplotlib in networkx's layered layout, as SVG or PNG bytes."""
    import networkx as nx  # noqa: PLC0415 - see the module's imports
    from matplotlib.figure import Figure  # noqa: PLC0415

    generations = {
        node: depth
        for depth, nodes in enumerate(nx.topological_generations(graph))
        for node in nodes
    }
    nx.set_node_attributes(graph, generations, "generation")
    positions = nx.multipartite_layout(graph, subset_key="generation") if graph else {}
    figure = Figure(figsize=(max(8, 2.2 * (1 + max(generations.values(), default=0))), 8))
    axes = figure.subplots()
    nx.draw_networkx(
        graph,
        positions,
        ax=axes,
        labels=dict(graph.nodes(data="label")),
        node_color=[_dot_style(attrs)["fillcolor"] for _, attrs in graph.nodes(data=True)],
        edgecolors="#555555",
        edge_color="#999999",
        font_size=7,
        node_size=900,
    )
    axes.set_title(f"Pipeline '{title}' (data flows left to right)")
    axes.axis("off")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, bbox_inches="tight")
    return buffer.getvalue()


def _modified(path: Path) -> int | None:
    """The file's modification time in nanoseconds, None if it does not exist."""
    return path.stat().st_mtime_ns if path.exists() else None


def _failure(output: str) -> str:
    """kedro-viz's error line from its output, or its last line."""
    lines = [line.strip() for line in output.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["no output"])[-1]
