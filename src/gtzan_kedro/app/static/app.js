// The page of `gtzan-kedro app`: upload each dropped or chosen file to /api/predict, one at a
// time, and draw its answer: the top labels as bars, the windows' labels over time as a heat
// strip. Plain JavaScript, no library: the page works offline.
"use strict";

const SETTINGS = window.GTZAN_APP;
const TOP_LABELS = 5;
const SVG = "http://www.w3.org/2000/svg";

const input = document.getElementById("files");
const dropZone = document.getElementById("drop-zone");
const results = document.getElementById("results");
const template = document.getElementById("result-template");
let queue = Promise.resolve();

input.addEventListener("change", () => {
  classifyAll(input.files);
  input.value = ""; // choosing the same file again classifies it again
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  classifyAll(event.dataTransfer.files);
});

function classifyAll(files) {
  // Every file gets its card at once; uploads follow one another.
  for (const file of Array.from(files)) {
    const card = newCard(file.name);
    queue = queue.then(() => classify(file, card));
  }
}

function newCard(name) {
  const card = template.content.firstElementChild.cloneNode(true);
  card.dataset.file = name;
  card.querySelector(".file-name").textContent = name;
  card.querySelector(".summary").textContent = "Waiting…";
  results.prepend(card);
  return card;
}

function classify(file, card) {
  if (file.size > SETTINGS.maxBytes) {
    const size = (file.size / 1048576).toFixed(1);
    showError(card, `'${file.name}' is ${size} MB, more than the ${SETTINGS.maxMegabytes} MB the app accepts.`);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    const progress = card.querySelector(".progress");
    const summary = card.querySelector(".summary");
    summary.textContent = "Uploading…";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
    });
    request.upload.addEventListener("load", () => {
      progress.removeAttribute("value"); // indeterminate while the model works
      summary.textContent = "Classifying…";
    });
    request.addEventListener("load", () => {
      let answer = null;
      try {
        answer = JSON.parse(request.responseText);
      } catch (error) {
        answer = null;
      }
      if (request.status === 200 && Array.isArray(answer) && answer.length === 1) {
        showRow(card, answer[0]);
      } else {
        const detail = answer && answer.detail ? answer.detail : `the app answered HTTP ${request.status}`;
        showError(card, typeof detail === "string" ? detail : JSON.stringify(detail));
      }
      resolve();
    });
    request.addEventListener("error", () => {
      showError(card, "The app did not answer: is `gtzan-kedro app` still running?");
      resolve();
    });
    const form = new FormData();
    form.append("file", file, file.name);
    request.open("POST", "/api/predict?timeline=true");
    request.setRequestHeader("Accept", "application/json");
    request.send(form);
  });
}

function showError(card, message) {
  card.dataset.status = "error";
  card.querySelector(".progress").hidden = true;
  card.querySelector(".summary").textContent = "Not classified";
  const error = card.querySelector(".error");
  error.textContent = message;
  error.hidden = false;
}

function showRow(card, row) {
  if (row.status !== "ok") {
    showError(card, row.error);
    return;
  }
  card.dataset.status = "ok";
  card.querySelector(".progress").hidden = true;
  const notes = [`${row.seconds.toFixed(1)} s`, `${row.windows} window${row.windows === 1 ? "" : "s"}`];
  if (row.padded) notes.push("padded: shorter than one window, repeated to fill it");
  card.querySelector(".summary").textContent = `${notes.join(" · ")} · model ${row.model}`;
  drawBars(card.querySelector(".bars"), row);
  if (row.timeline) drawTimeline(card.querySelector(".timeline-box"), row.timeline);
}

function drawBars(box, row) {
  const ranked = SETTINGS.labels
    .map((label) => [label, row[label]])
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_LABELS);
  for (const [label, probability] of ranked) {
    const bar = document.createElement("div");
    bar.className = "bar";
    const name = document.createElement("span");
    name.className = "label";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${(100 * probability).toFixed(1)}%`;
    track.append(fill);
    const percent = document.createElement("span");
    percent.className = "percent";
    percent.textContent = `${Math.round(100 * probability)}%`;
    bar.append(name, track, percent);
    box.append(bar);
  }
}

function drawTimeline(box, windows) {
  // One row per label, one column per window; overlapping windows meet half-way between
  // their centres, as in `gtzan-kedro predict --timeline`'s picture.
  const labels = SETTINGS.labels;
  const labelWidth = 90, width = 640, margin = 20, rowHeight = 14, axisHeight = 22;
  const start = windows[0].start_s, end = windows[windows.length - 1].end_s;
  const plotWidth = width - labelWidth - margin;
  const x = (seconds) => labelWidth + ((seconds - start) / Math.max(end - start, 1e-9)) * plotWidth;
  const centres = windows.map((w) => (w.start_s + w.end_s) / 2);
  const edges = [start, ...centres.slice(1).map((c, i) => (c + centres[i]) / 2), end];
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "timeline");
  svg.setAttribute("viewBox", `0 0 ${width} ${labels.length * rowHeight + axisHeight}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Each label's probability over time");
  labels.forEach((label, row) => {
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", labelWidth - 6);
    text.setAttribute("y", row * rowHeight + rowHeight - 3);
    text.setAttribute("text-anchor", "end");
    text.textContent = label;
    svg.append(text);
    windows.forEach((window, column) => {
      const cell = document.createElementNS(SVG, "rect");
      cell.setAttribute("x", x(edges[column]));
      cell.setAttribute("y", row * rowHeight);
      cell.setAttribute("width", Math.max(x(edges[column + 1]) - x(edges[column]), 0.5));
      cell.setAttribute("height", rowHeight - 1);
      cell.setAttribute("fill", heat(window[label]));
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = `${label} ${Math.round(100 * window[label])}% (${window.start_s.toFixed(1)}–${window.end_s.toFixed(1)} s)`;
      cell.append(tip);
      svg.append(cell);
    });
  });
  const axis = labels.length * rowHeight + 15;
  for (const tick of ticks(start, end)) {
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", x(tick));
    text.setAttribute("y", axis);
    text.setAttribute("text-anchor", "middle");
    text.textContent = `${tick} s`;
    svg.append(text);
  }
  box.append(svg);
}

function heat(probability) {
  // From near-white (0) to dark purple (1).
  const light = [248, 246, 252], dark = [60, 20, 110];
  const mix = light.map((value, i) => Math.round(value + (dark[i] - value) * probability));
  return `rgb(${mix.join(",")})`;
}

function ticks(start, end) {
  const span = Math.max(end - start, 1e-9);
  const step = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300].find((s) => span / s <= 8) || 600;
  const first = Math.ceil(start / step) * step;
  const values = [];
  for (let tick = first; tick <= end + 1e-9; tick += step) values.push(Number(tick.toFixed(1)));
  return values;
}
