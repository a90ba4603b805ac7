// The explorer page: signs in with the browser session flow, searches entities (by filters, or by
// text through POST /v1/search), draws neighbourhoods with cytoscape (bundled from npm), expands
// nodes, finds shortest paths, relates and soft-deletes. Plain script, no build step; it talks only
// to this origin's API.
//
// Security: the session lives in HttpOnly cookies the script never sees; the CSRF token from the
// sign-in answer stays in the `session` variable below (memory only, gone on reload) and goes
// out as X-CSRF-Token on every write.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ the API

  /** `{user, csrf}` after POST /v1/auth/session, else null. Never written to any storage. */
  let session = null;
  const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

  /** An error answer of the API (problem+json), or a request that never reached it. */
  class ApiProblem extends Error {
    constructor(status, problem, requestId) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
      this.requestId = problem.request_id || requestId || null;
    }
  }

  /** One request with the session cookies (and the CSRF token on writes); JSON in and out. */
  async function send(method, path, body) {
    const headers = { accept: "application/json, application/problem+json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (UNSAFE.has(method) && session) headers["x-csrf-token"] = session.csrf;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiProblem(0, { title: "The API could not be reached", detail: String(e.message ?? e) });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const problem = json && typeof json === "object"
        ? json
        : { title: response.statusText || "Error", detail: text.slice(0, 300) };
      throw new ApiProblem(response.status, problem, response.headers.get("x-request-id"));
    }
    return json;
  }

  /** A request as the signed-in user: an expired access token is renewed once, then retried. */
  async function api(method, path, body) {
    try {
      return await send(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiProblem) || e.status !== 401 || !session) throw e;
      await refresh();
      return send(method, path, body);
    }
  }

  // Refresh tokens rotate and a reused one revokes the session: one refresh at a time.
  let refreshing = null;
  function refresh() {
    refreshing ??= send("POST", "/v1/auth/refresh")
      .then((renewed) => {
        session = { user: renewed.user, csrf: renewed.csrf_token };
      })
      .catch((e) => {
        signedOut();
        throw e;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  // ------------------------------------------------------------------ messages

  /** Show an error with what the API said about it, request id included. */
  function showProblem(error) {
    const box = $("problem");
    const problem = error instanceof ApiProblem ? error.problem : { title: "Unexpected error", detail: String(error) };
    const status = error instanceof ApiProblem && error.status ? ` (${error.status})` : "";
    const head = document.createElement("p");
    const title = document.createElement("strong");
    title.textContent = `${problem.title || "Error"}${status}`;
    head.append(title, problem.detail ? `: ${problem.detail}` : "");
    box.replaceChildren(head);
    if (Array.isArray(problem.errors) && problem.errors.length) {
      const list = document.createElement("ul");
      for (const { field, message } of problem.errors) {
        const item = document.createElement("li");
        item.textContent = `${field}: ${message}`;
        list.append(item);
      }
      box.append(list);
    }
    if (error.requestId) {
      const id = document.createElement("p");
      const code = document.createElement("code");
      code.className = "request-id";
      code.textContent = error.requestId;
      id.append("Request id: ", code);
      box.append(id);
    }
    box.hidden = false;
  }

  function clearProblem() {
    $("problem").hidden = true;
    $("problem").replaceChildren();
  }

  function say(text) {
    $("status").textContent = text;
  }

  /** An event handler that runs `work`, marks the page busy meanwhile and shows any error. */
  function action(work) {
    return async (event) => {
      event?.preventDefault?.();
      clearProblem();
      const main = document.querySelector("main");
      main.setAttribute("aria-busy", "true");
      try {
        await work(event);
      } catch (e) {
        showProblem(e);
      } finally {
        main.setAttribute("aria-busy", "false");
      }
    };
  }

  // ------------------------------------------------------------------ the drawing

  const PALETTE = ["#4c6ef5", "#12b886", "#f59f00", "#be4bdb", "#15aabf", "#fa5252", "#82c91e", "#fd7e14"];
  const colorOf = (type) => {
    let hash = 0;
    for (const ch of type) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return PALETTE[hash % PALETTE.length];
  };

  const STYLE = [
    {
      selector: "node",
      style: {
        label: "data(name)",
        "background-color": "data(color)",
        "border-width": 2,
        "border-color": "#ffffff",
        width: 26,
        height: 26,
        color: "#1d2430",
        "font-size": 11,
        "text-valign": "bottom",
        "text-margin-y": 4,
        "text-wrap": "ellipsis",
        "text-max-width": "120px",
      },
    },
    {
      selector: "edge",
      style: {
        label: "data(type)",
        width: 2,
        "line-color": "#a9b3c1",
        "target-arrow-color": "#a9b3c1",
        "target-arrow-shape": "triangle",
        "curve-style": "bezier",
        color: "#5b6576",
        "font-size": 9,
        "text-rotation": "autorotate",
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.85,
        "text-background-padding": "1px",
      },
    },
    { selector: "node.root", style: { width: 36, height: 36 } },
    { selector: ".faded", style: { opacity: 0.25 } },
    { selector: "node.on-path", style: { "background-color": "#e8590c" } },
    { selector: "edge.on-path", style: { "line-color": "#e8590c", "target-arrow-color": "#e8590c", width: 4 } },
    { selector: "node.pick-a", style: { "border-color": "#2b8a3e", "border-width": 5 } },
    { selector: "node.pick-b", style: { "border-color": "#862e9c", "border-width": 5 } },
    { selector: "node.chosen", style: { "border-color": "#1f5fbf", "border-width": 5, "font-weight": "bold" } },
    { selector: "edge.chosen", style: { "line-color": "#1f5fbf", "target-arrow-color": "#1f5fbf", width: 4 } },
  ];

  let cy = null;

  function startDrawing() {
    if (typeof window.cytoscape !== "function") {
      showProblem(new Error("The graph library (/explore/cytoscape.min.js) did not load."));
      return;
    }
    // Selection is the page's own (one element, shown in the details), not cytoscape's.
    cy = window.cytoscape({ container: $("graph"), style: STYLE, autounselectify: true, minZoom: 0.2, maxZoom: 3 });
    cy.on("tap", "node", (event) => action(() => activateNode(event.target.id()))());
    cy.on("tap", "edge", (event) => select(event.target.id()));
    window.cy = cy; // for the browser test and the console
  }

  const nameOf = (id) => cy.getElementById(id).data("name") ?? id;
  const filters = () => {
    const type = $("rel-filter").value.trim();
    return { direction: $("direction").value, ...(type ? { type } : {}) };
  };
  const describeFilters = () => {
    const { direction, type } = filters();
    return `direction ${direction}${type ? `, relationship type “${type}”` : ""}`;
  };

  /** Merge a `{nodes, edges}` answer into the drawing, new nodes placed `near`; counts what is new. */
  function merge(graph, near) {
    const added = { nodes: 0, edges: 0 };
    cy.batch(() => {
      for (const entity of graph.nodes) {
        const data = { id: entity.id, name: entity.name, type: entity.type, color: colorOf(entity.type), record: entity };
        const existing = cy.getElementById(entity.id);
        if (existing.nonempty()) {
          existing.data(data);
          continue;
        }
        const position = near
          ? { x: near.x + (Math.random() - 0.5) * 120, y: near.y + (Math.random() - 0.5) * 120 }
          : undefined;
        cy.add({ group: "nodes", data, position });
        added.nodes += 1;
      }
      for (const rel of graph.edges) {
        if (cy.getElementById(rel.source_id).empty() || cy.getElementById(rel.target_id).empty()) continue;
        const data = { id: rel.id, source: rel.source_id, target: rel.target_id, type: rel.type, record: rel };
        const existing = cy.getElementById(rel.id);
        if (existing.nonempty()) {
          existing.data({ type: rel.type, record: rel });
          continue;
        }
        cy.add({ group: "edges", data });
        added.edges += 1;
      }
    });
    return added;
  }

  /** Lay the drawing out again; `fresh` spreads everything anew, otherwise positions are kept. */
  function layout(fresh) {
    cy.layout({
      name: "cose",
      animate: false,
      randomize: fresh,
      fit: true,
      padding: 40,
      nodeRepulsion: () => 9000,
      idealEdgeLength: () => 80,
    }).run();
  }

  // ------------------------------------------------------------------ lists and details

  let selectedId = null;
  const picks = { a: null, b: null };

  function choice(id, label, kind, marks) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.id = id;
    button.append(label);
    const kindSpan = document.createElement("span");
    kindSpan.className = "kind";
    kindSpan.textContent = kind;
    button.append(kindSpan);
    for (const mark of marks) {
      const markSpan = document.createElement("span");
      markSpan.className = "mark";
      markSpan.textContent = mark;
      button.append(markSpan);
    }
    if (id === selectedId) button.setAttribute("aria-current", "true");
    item.append(button);
    return item;
  }

  /** The accessible counterpart of the canvas: every drawn entity and relationship, as buttons. */
  function renderLists() {
    const focused = document.activeElement;
    const refocus = focused?.dataset?.id && focused.closest("ul")?.id;
    const refocusId = focused?.dataset?.id;

    const nodes = cy ? cy.nodes().sort((x, y) => x.data("name").localeCompare(y.data("name"))) : [];
    const edges = cy ? cy.edges() : [];
    $("node-list").replaceChildren(...nodes.map((n) => {
      const marks = [];
      if (n.id() === picks.a) marks.push("A");
      if (n.id() === picks.b) marks.push("B");
      if (n.hasClass("on-path")) marks.push("on path");
      return choice(n.id(), n.data("name"), n.data("type"), marks);
    }));
    $("edge-list").replaceChildren(...edges.map((e) => {
      const label = `${nameOf(e.data("source"))} → ${nameOf(e.data("target"))}`;
      return choice(e.id(), label, e.data("type"), e.hasClass("on-path") ? ["on path"] : []);
    }));
    $("node-count").textContent = String(nodes.length);
    $("edge-count").textContent = String(edges.length);
    $("nodes-empty").hidden = nodes.length > 0;
    $("edges-empty").hidden = edges.length > 0;
    $("graph").setAttribute(
      "aria-label",
      `Graph of ${nodes.length} entities and ${edges.length} relationships; the lists beside it name them.`,
    );
    if (refocus) {
      $(refocus).querySelector(`button[data-id="${CSS.escape(refocusId)}"]`)?.focus();
    }
  }

  function field(list, term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value === undefined || value === null ? "—" : String(value);
    list.append(dt, dd);
  }

  const metadataBlock = (metadata) => {
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(metadata ?? {}, null, 2);
    return pre;
  };
  const whoIs = (id) => (session && id === session.user.id ? `you (${id})` : id);

  function renderDetails() {
    const element = selectedId && cy ? cy.getElementById(selectedId) : null;
    const list = $("details-fields");
    list.replaceChildren();
    const shown = element && element.nonempty();
    $("details-empty").hidden = shown;
    $("details-actions").hidden = !shown;
    if (!shown) {
      $("details-heading").textContent = "Selected";
      return;
    }
    const r = element.data("record");
    if (element.isNode()) {
      $("details-heading").textContent = "Selected entity";
      field(list, "Name", r.name);
      field(list, "Type", r.type);
      field(list, "Confidence", r.confidence);
      field(list, "Owner", whoIs(r.owner_id));
    } else {
      $("details-heading").textContent = "Selected relationship";
      field(list, "Type", r.type);
      field(list, "From", nameOf(r.source_id));
      field(list, "To", nameOf(r.target_id));
      field(list, "Confidence", r.confidence);
      field(list, "Created by", whoIs(r.created_by));
    }
    // What every record has, entity or relationship.
    field(list, "Version", r.version);
    field(list, "Created", r.created_at);
    field(list, "Updated", r.updated_at);
    field(list, "Id", r.id);
    field(list, "Metadata", metadataBlock(r.metadata));
    for (const id of ["expand", "pick-a", "pick-b"]) $(id).hidden = !element.isNode();
    $("delete").textContent = element.isNode() ? "Delete entity" : "Delete relationship";
  }

  function renderPicks() {
    for (const slot of ["a", "b"]) {
      const id = picks[slot];
      $(`${slot}-name`).textContent = id ? nameOf(id) : "not chosen";
      if (cy) {
        cy.nodes().removeClass(`pick-${slot}`);
        if (id) cy.getElementById(id).addClass(`pick-${slot}`);
      }
    }
    const ready = Boolean(session && picks.a && picks.b && picks.a !== picks.b);
    $("find-path").disabled = !ready;
    $("relate-submit").disabled = !ready;
  }

  function select(id) {
    selectedId = id;
    cy.elements().removeClass("chosen");
    if (id) cy.getElementById(id).addClass("chosen");
    renderDetails();
    renderLists();
  }

  function updateView() {
    renderPicks();
    renderDetails();
    renderLists();
    const empty = !cy || cy.nodes().empty();
    if (empty) $("graph-empty").textContent = "Choose an entity from the search results to draw its neighbourhood.";
    $("graph-empty").hidden = !empty;
  }

  // ------------------------------------------------------------------ what the user does

  async function signIn() {
    const email = $("email").value.trim();
    const password = $("password").value;
    const answer = await send("POST", "/v1/auth/session", { email, password });
    session = { user: answer.user, csrf: answer.csrf_token };
    $("password").value = "";
    $("sign-in").hidden = true;
    $("who-email").textContent = answer.user.email;
    $("who-role").textContent = answer.user.role;
    $("who").hidden = false;
    setSignedIn(true);
    if (!$("results").children.length) $("results-empty").textContent = "Search to list entities.";
    say(`Signed in as ${answer.user.email}.`);
    $("search-type").focus();
  }

  async function signOut() {
    try {
      await api("POST", "/v1/auth/logout");
    } finally {
      signedOut();
      say("Signed out.");
    }
  }

  /** Forget the session and everything shown with it. */
  function signedOut() {
    session = null;
    $("sign-in").hidden = false;
    $("who").hidden = true;
    setSignedIn(false);
    if (cy) cy.elements().remove();
    picks.a = picks.b = null;
    selectedId = null;
    $("results").replaceChildren();
    $("text-results").replaceChildren();
    $("text-results-empty").textContent = "Search by text to list the best matches.";
    $("text-results-empty").hidden = false;
    $("results-more").hidden = true;
    $("results-empty").textContent = "Sign in and search to list entities.";
    $("results-empty").hidden = false;
    $("path-steps").replaceChildren();
    updateView();
  }

  function setSignedIn(yes) {
    for (const control of [...$("search").elements, ...$("text-search").elements]) control.disabled = !yes;
    $("sign-out").disabled = !yes;
  }

  let nextCursor = null;
  let lastSearch = null;

  async function search(more) {
    if (!more) {
      lastSearch = new URLSearchParams({ limit: "25", sort: "name" });
      for (const [name, id] of [["type", "search-type"], ["q", "search-q"], ["metadata", "search-metadata"]]) {
        const value = $(id).value.trim();
        if (value) lastSearch.set(name, value);
      }
    }
    const params = new URLSearchParams(lastSearch);
    if (more) params.set("cursor", nextCursor);
    const page = await api("GET", `/v1/entities?${params}`);
    if (!more) $("results").replaceChildren();
    for (const entity of page.items) {
      const item = choice(entity.id, entity.name, entity.type, []);
      item.firstChild.addEventListener("click", action(() => draw(entity.id)));
      $("results").append(item);
    }
    nextCursor = page.next_cursor;
    $("results-more").hidden = !nextCursor;
    const count = $("results").children.length;
    $("results-empty").textContent = "No entities match this search.";
    $("results-empty").hidden = count > 0;
    say(count ? `${count} ${count === 1 ? "entity" : "entities"} found${nextCursor ? " (more available)" : ""}.` : "No entities match this search.");
  }

  /** POST /v1/search with the typed text: the best 20 hits (full text, then similar names),
   *  each with its type and fused score; choosing one draws it as a result of the list search does. */
  async function textSearch() {
    const text = $("text-q").value.trim();
    const answer = await api("POST", "/v1/search", { text, limit: 20 });
    $("text-results").replaceChildren(...answer.hits.map(({ entity, score }) => {
      const item = choice(entity.id, entity.name, entity.type, [`score ${score.toFixed(4)}`]);
      item.firstChild.addEventListener("click", action(() => draw(entity.id)));
      return item;
    }));
    const count = answer.hits.length;
    const found = count ? `${count} ${count === 1 ? "hit" : "hits"} for “${text}”.` : `Nothing matches “${text}”.`;
    $("text-results-empty").textContent = found;
    $("text-results-empty").hidden = count > 0;
    say(found);
  }

  const neighboursUrl = (id, depth) =>
    `/v1/graph/neighbors/${encodeURIComponent(id)}?${new URLSearchParams({ depth: String(depth), ...filters() })}`;

  /** Replace the drawing with an entity's neighbourhood. */
  async function draw(id) {
    const depth = Number($("depth").value);
    const graph = await api("GET", neighboursUrl(id, depth));
    clearPath();
    cy.elements().remove();
    merge(graph);
    cy.getElementById(id).addClass("root");
    layout(true);
    select(id);
    updateView();
    const name = nameOf(id);
    const hops = `${depth} ${depth === 1 ? "hop" : "hops"}`;
    if (graph.nodes.length <= 1) {
      $("graph-empty").textContent = `${name} has no neighbours within ${hops} (${describeFilters()}).`;
      $("graph-empty").hidden = false;
      say(`${name} has no neighbours within ${hops}.`);
    } else {
      say(`Drew ${name} and its neighbourhood: ${cy.nodes().length} entities, ${cy.edges().length} relationships within ${hops}${graph.truncated ? " (truncated at the limit)" : ""}.`);
    }
  }

  /** Merge an entity's direct neighbours into the drawing. */
  async function expand(id) {
    const node = cy.getElementById(id);
    const graph = await api("GET", neighboursUrl(id, 1));
    const added = merge(graph, node.position());
    if (added.nodes || added.edges) layout(false);
    updateView();
    const name = nameOf(id);
    say(added.nodes || added.edges
      ? `Expanded ${name}: ${added.nodes} new entities, ${added.edges} new relationships.`
      : `${name} has no further neighbours (${describeFilters()}).`);
  }

  /** What a click on an entity does: show it and merge its neighbours in. */
  async function activateNode(id) {
    select(id);
    await expand(id);
  }

  function clearPath() {
    if (cy) cy.elements().removeClass("on-path faded");
    $("path-steps").replaceChildren();
    $("clear-path").hidden = true;
  }

  async function findPath() {
    const params = new URLSearchParams({ from: picks.a, to: picks.b, ...filters() });
    clearPath();
    let graph;
    try {
      graph = await api("GET", `/v1/graph/path?${params}`);
    } catch (e) {
      if (!(e instanceof ApiProblem) || e.status !== 404) throw e;
      const none = document.createElement("li");
      none.textContent = `No path from ${nameOf(picks.a)} to ${nameOf(picks.b)} (${describeFilters()}): ${e.problem.detail ?? ""}`;
      $("path-steps").replaceChildren(none);
      say(`No path from ${nameOf(picks.a)} to ${nameOf(picks.b)}.`);
      return;
    }
    const added = merge(graph);
    if (added.nodes || added.edges) layout(false);
    cy.elements().addClass("faded");
    const onPath = new Set([...graph.nodes.map((n) => n.id), ...graph.edges.map((e) => e.id)]);
    cy.elements().filter((el) => onPath.has(el.id())).removeClass("faded").addClass("on-path");
    const steps = graph.nodes.map((node, i) => {
      const item = document.createElement("li");
      const next = graph.nodes[i + 1];
      const via = next && graph.edges.find((e) =>
        (e.source_id === node.id && e.target_id === next.id) || (e.source_id === next.id && e.target_id === node.id));
      item.textContent = via ? `${node.name} — ${via.type} ${via.source_id === node.id ? "→" : "←"}` : node.name;
      return item;
    });
    $("path-steps").replaceChildren(...steps);
    $("clear-path").hidden = false;
    updateView();
    const hops = graph.edges.length;
    say(`Shortest path from ${nameOf(picks.a)} to ${nameOf(picks.b)}: ${hops} ${hops === 1 ? "hop" : "hops"}.`);
  }

  async function relate() {
    const body = { source_id: picks.a, target_id: picks.b, type: $("rel-type").value.trim() };
    const confidence = $("rel-confidence").value.trim();
    // Anything typed goes to the API, which says what is wrong with it.
    if (confidence) body.confidence = Number.isNaN(Number(confidence)) ? confidence : Number(confidence);
    const created = await api("POST", "/v1/relationships", body);
    merge({ nodes: [], edges: [created] });
    select(created.id);
    updateView();
    say(`Created ${nameOf(created.source_id)} —${created.type}→ ${nameOf(created.target_id)}.`);
  }

  async function remove() {
    const element = cy.getElementById(selectedId);
    if (element.empty()) return;
    const isNode = element.isNode();
    const label = isNode
      ? element.data("name")
      : `${nameOf(element.data("source"))} —${element.data("type")}→ ${nameOf(element.data("target"))}`;
    const what = isNode ? "entity" : "relationship";
    if (!window.confirm(`Delete the ${what} “${label}”? (A soft delete: an admin can restore it.)`)) return;
    await api("DELETE", `/v1/${isNode ? "entities" : "relationships"}/${encodeURIComponent(element.id())}`);
    // A deleted entity's relationships are hidden with it (the edges go with the node).
    cy.remove(element);
    for (const slot of ["a", "b"]) if (picks[slot] === element.id()) picks[slot] = null;
    selectedId = null;
    updateView();
    say(`Deleted the ${what} ${label}.`);
    $("node-list-heading").focus();
  }

  function pick(slot) {
    picks[slot] = selectedId;
    clearPath();
    updateView();
    say(`${nameOf(selectedId)} is ${slot.toUpperCase()}.`);
  }

  // ------------------------------------------------------------------ wiring

  function listActivation(listId, handler) {
    $(listId).addEventListener("click", (event) => {
      const button = event.target.closest("button[data-id]");
      if (button) handler(button.dataset.id);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    startDrawing();
    $("sign-in").addEventListener("submit", action(signIn));
    $("sign-out").addEventListener("click", action(signOut));
    $("search").addEventListener("submit", action(() => search(false)));
    $("results-more").addEventListener("click", action(() => search(true)));
    $("text-search").addEventListener("submit", action(textSearch));
    $("expand").addEventListener("click", action(() => expand(selectedId)));
    $("pick-a").addEventListener("click", () => pick("a"));
    $("pick-b").addEventListener("click", () => pick("b"));
    $("delete").addEventListener("click", action(remove));
    $("find-path").addEventListener("click", action(findPath));
    $("clear-path").addEventListener("click", () => {
      clearPath();
      updateView();
    });
    $("relate").addEventListener("submit", action(relate));
    listActivation("node-list", (id) => action(() => activateNode(id))());
    listActivation("edge-list", (id) => select(id));
    setSignedIn(false);
    updateView();
    $("email").focus();
  });
})();
