// The browser side of gazette's review widget (anywidget ESM). It draws the page image with
// word boxes, the text, the editor and the legend, and sends "save"/"goto" messages; the
// Python side journals each save and answers by setting `focus` and bumping `focus_serial`.

const SVG = "http://www.w3.org/2000/svg";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function button(label, className, title, onClick) {
  const node = el("button", "gz-button " + className, label);
  node.type = "button";
  node.title = title;
  node.addEventListener("click", onClick);
  return node;
}

function wordClasses(token) {
  const classes = ["gz-level-" + token.level];
  if (token.agency) classes.push("gz-agency");
  if (token.reviewed) classes.push("gz-reviewed");
  if (token.pending) classes.push("gz-pending");
  if (token.conflict) classes.push("gz-conflict"); // an open conflict, as Python decided it
  return classes;
}

function percent(value) {
  return value === null || value === undefined ? "–" : Math.round(value * 100) + " %";
}

function render({ model, el: host }) {
  const root = el("div", "gz-review");
  host.appendChild(root);

  // Header: document, pages, counter, reviewer, zoom.
  const header = el("div", "gz-header");
  const documentSelect = el("select", "gz-document");
  documentSelect.title = "Converted document";
  documentSelect.addEventListener("change", () => {
    model.set("document", documentSelect.value);
    model.save_changes();
  });
  const pageLabel = el("span", "gz-page-label");
  const goPage = (delta) => () => {
    const next = model.get("page") + delta;
    if (next >= 1 && next <= model.get("page_count")) {
      model.set("page", next);
      model.save_changes();
    }
  };
  const previousPage = button("◀", "gz-previous-page", "Previous page", goPage(-1));
  const nextPage = button("▶", "gz-next-page", "Next page", goPage(1));
  const nextWord = button("Next word to review ⏎", "gz-next-word", "Jump to the next word still to review", () =>
    model.send({ type: "goto", token: selected || "", step: 1 }),
  );
  const counter = el("span", "gz-counter");
  const reviewerInput = el("input", "gz-reviewer");
  reviewerInput.title = "Your name, recorded with every correction";
  reviewerInput.addEventListener("change", () => {
    model.set("reviewer", reviewerInput.value);
    model.save_changes();
  });
  let zoom = 1;
  const zoomBy = (factor) => () => {
    zoom = Math.min(4, Math.max(0.5, zoom * factor));
    pageSvg.style.width = zoom * 100 + "%";
  };
  header.append(
    documentSelect,
    previousPage,
    pageLabel,
    nextPage,
    nextWord,
    counter,
    el("span", "gz-spacer"),
    el("label", "gz-reviewer-label", "Reviewer"),
    reviewerInput,
    button("−", "gz-zoom-out", "Zoom out", zoomBy(1 / 1.25)),
    button("+", "gz-zoom-in", "Zoom in", zoomBy(1.25)),
  );

  const legend = el("div", "gz-legend");
  const status = el("div", "gz-status");
  const orphans = el("details", "gz-orphans");

  // Body: image on the left, editor and text on the right.
  const body = el("div", "gz-body");
  const imagePane = el("div", "gz-image-pane");
  const pageSvg = svg("svg", { class: "gz-page" });
  const imageNote = el("div", "gz-image-note");
  imagePane.append(pageSvg, imageNote);
  const side = el("div", "gz-side");
  const editor = el("div", "gz-editor");
  const crop = svg("svg", { class: "gz-crop" });
  const input = el("input", "gz-input");
  input.setAttribute("autocomplete", "off");
  input.spellcheck = false;
  const keys = el("div", "gz-keys");
  keys.textContent =
    "Enter: save (unchanged: confirm) and go to the next word to review · Shift+Enter: previous · Esc: cancel";
  const details = el("div", "gz-details");
  editor.append(crop, input, keys, details);
  const textPane = el("div", "gz-text");
  side.append(editor, textPane);
  body.append(imagePane, side);
  root.append(header, legend, status, orphans, body);

  const clipId = "gz-clip-" + Math.random().toString(36).slice(2); // unique per widget view
  let selected = null; // token id in the editor
  let tokens = new Map(); // id → token view of the current page
  let imageUrl = null;
  let appliedSerial = model.get("focus_serial");
  let saving = false;

  function drawHeader() {
    const documents = model.get("documents");
    if (documentSelect.options.length !== documents.length) {
      documentSelect.replaceChildren(...documents.map((name) => el("option", "", name)));
    }
    documentSelect.value = model.get("document");
    pageLabel.textContent = `page ${model.get("page")} / ${model.get("page_count")}`;
    previousPage.disabled = model.get("page") <= 1;
    nextPage.disabled = model.get("page") >= model.get("page_count");
    const counts = model.get("counts") || {};
    const whole = counts.document || { pending: 0, flagged: 0 };
    const here = counts.page || { pending: 0 };
    counter.textContent =
      `${whole.pending} of ${whole.flagged} flagged words left to review (${here.pending} on this page)`;
    if (document.activeElement !== reviewerInput) reviewerInput.value = model.get("reviewer");
    status.textContent = model.get("status");
    const lost = model.get("orphans");
    orphans.hidden = lost.length === 0;
    orphans.replaceChildren(
      el("summary", "", `${lost.length} correction(s) no longer fit this document (kept in the journal)`),
      ...lost.map((line) => el("div", "", line)),
    );
  }

  function drawLegend() {
    legend.replaceChildren(
      ...model.get("legend").map(([kind, meaning]) => {
        const item = el("span", "gz-legend-item");
        item.append(el("span", "gz-swatch gz-swatch-" + kind), el("span", "", meaning));
        return item;
      }),
    );
  }

  function drawImage() {
    const size = model.get("page_size");
    const bytes = model.get("image");
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = null;
    pageSvg.replaceChildren();
    crop.replaceChildren();
    const hasImage = size.length === 2 && bytes && bytes.byteLength > 0;
    root.classList.toggle("gz-text-only", !hasImage);
    imageNote.textContent = model.get("image_note");
    if (!hasImage) return;
    imageUrl = URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" }));
    pageSvg.setAttribute("viewBox", `0 0 ${size[0]} ${size[1]}`);
    pageSvg.append(svg("image", { href: imageUrl, x: 0, y: 0, width: size[0], height: size[1] }));
  }

  function drawWords() {
    tokens = new Map();
    const boxes = svg("g", { class: "gz-boxes" });
    const lines = [];
    for (const line of model.get("lines")) {
      const row = el("div", "gz-line");
      line.tokens.forEach((token, index) => {
        tokens.set(token.id, token);
        if (index > 0) row.append(" ");
        const word = el("span", "gz-word " + wordClasses(token).join(" "), token.text);
        word.dataset.token = token.id;
        word.addEventListener("click", () => select(token.id, true));
        row.append(word);
        if (token.box) {
          const [x0, y0, x1, y1] = token.box;
          const rect = svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
          rect.setAttribute("class", "gz-box " + wordClasses(token).join(" "));
          rect.dataset.token = token.id;
          rect.addEventListener("click", () => select(token.id, true));
          rect.append(svg("title"));
          rect.firstChild.textContent = `${token.text} (${percent(token.confidence)})`;
          boxes.append(rect);
        }
      });
      lines.push(row);
    }
    textPane.replaceChildren(...lines);
    if (pageSvg.firstChild) pageSvg.append(boxes);
  }

  function drawDetails(token) {
    const rows = [];
    const row = (label, value, className) => {
      const item = el("div", "gz-history-row " + (className || ""));
      item.append(el("span", "gz-history-label", label), el("span", "gz-history-value", value));
      rows.push(item);
    };
    row("OCR", `${token.ocr} (${percent(token.ocr_confidence)})`);
    if (token.restored !== null) row("Restored", `${token.restored} (${percent(token.restore_confidence)})`);
    if (token.agency) {
      const nearest = token.agency.candidates.length ? " — nearest: " + token.agency.candidates.join("; ") : "";
      row("Agency", `unknown: “${token.agency.text}”${nearest}`, "gz-history-agency");
    }
    for (const c of token.history) {
      const when = c.time.replace("T", " ").slice(0, 19);
      const what = c.text === c.previous ? `confirmed “${c.text}”` : `“${c.previous}” → “${c.text}”`;
      const conflict = c.conflict ? " ⚠ made on a word someone else had changed" : "";
      row(`${when} ${c.reviewer}`, what + conflict, c.conflict ? "gz-history-conflict" : "");
    }
    details.replaceChildren(...rows);
  }

  function drawCrop(token) {
    crop.replaceChildren();
    const size = model.get("page_size");
    const line = model.get("lines").find((l) => l.tokens.some((t) => t.id === token.id));
    const box = (line && line.box) || token.box;
    if (!imageUrl || !box || size.length !== 2) {
      crop.style.display = "none";
      return;
    }
    crop.style.display = "";
    const pad = (box[3] - box[1]) * 0.3; // lines sit close: pad less above and below
    const x = Math.max(0, box[0] - pad);
    const y = Math.max(0, box[1] - pad / 3);
    const width = box[2] - box[0] + 2 * pad;
    const height = box[3] - box[1] + (2 * pad) / 3;
    crop.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
    // The viewport can be wider than the line: clip, so neighbouring lines do not show.
    const clip = svg("clipPath", { id: clipId });
    clip.append(svg("rect", { x, y, width, height }));
    const image = svg("image", { href: imageUrl, x: 0, y: 0, width: size[0], height: size[1] });
    image.setAttribute("clip-path", `url(#${clipId})`);
    crop.append(clip, image);
    if (token.box) {
      const [x0, y0, x1, y1] = token.box;
      crop.append(svg("rect", { class: "gz-crop-word", x: x0, y: y0, width: x1 - x0, height: y1 - y0 }));
    }
  }

  // Select a word: highlight it on the image and in the text, fill the editor. The input's
  // value is reset only when asked, so a redraw never throws away what the reviewer is typing.
  function select(id, focusInput, resetInput = true) {
    for (const node of root.querySelectorAll(".gz-selected")) node.classList.remove("gz-selected");
    const token = tokens.get(id);
    selected = token ? id : null;
    editor.classList.toggle("gz-editing", Boolean(token));
    if (!token) {
      input.dataset.token = "";
      input.value = "";
      return;
    }
    for (const node of root.querySelectorAll(`.gz-word[data-token="${id}"], .gz-box[data-token="${id}"]`)) {
      node.classList.add("gz-selected");
    }
    if (resetInput || input.dataset.token !== id) {
      input.dataset.token = id;
      input.dataset.previous = token.text;
      input.value = token.text;
    }
    drawCrop(token);
    drawDetails(token);
    const word = textPane.querySelector(`.gz-word[data-token="${id}"]`);
    const rect = pageSvg.querySelector(`rect[data-token="${id}"]`);
    if (word) word.scrollIntoView({ block: "nearest" });
    if (rect) rect.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (focusInput) {
      input.focus();
      input.select();
    }
  }

  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      input.value = input.dataset.previous || "";
      input.blur();
      return;
    }
    if (event.key !== "Enter" || !selected || saving) return;
    event.preventDefault();
    saving = true;
    root.classList.add("gz-saving");
    model.send({
      type: "save",
      token: selected,
      text: input.value,
      previous: input.dataset.previous,
      step: event.shiftKey ? -1 : 1,
    });
  });

  let scheduled = false;
  let dirtyImage = true;
  function redraw() {
    scheduled = false;
    drawHeader();
    if (dirtyImage) drawImage();
    dirtyImage = false;
    drawWords();
    const serial = model.get("focus_serial");
    if (serial !== appliedSerial) {
      // The answer to a save or goto: edit the word Python chose next.
      appliedSerial = serial;
      saving = false;
      root.classList.remove("gz-saving");
      select(model.get("focus"), true);
    } else {
      select(selected, false, false);
    }
  }
  function schedule() {
    if (!scheduled) {
      scheduled = true;
      setTimeout(redraw, 0); // after every trait of one update has arrived
    }
  }
  model.on("change:image", () => {
    dirtyImage = true;
    schedule();
  });
  for (const name of ["page_size", "image_note"]) {
    model.on("change:" + name, () => {
      dirtyImage = true;
      schedule();
    });
  }
  const drawn = ["documents", "document", "page", "page_count", "lines", "counts", "focus_serial", "reviewer"];
  for (const name of [...drawn, "status", "orphans"]) model.on("change:" + name, schedule);
  drawLegend();
  redraw();
  return () => {
    if (imageUrl) URL.revokeObjectURL(imageUrl);
  };
}

export default { render };
