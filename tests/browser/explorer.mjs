// The graph explorer in a real browser: headless Debian Chromium (playwright-core) drives /explore
// on a running host ($SPINGRAPH_URL). The test makes a user (`spingraph admin create-user` on
// $DATABASE_URL, or takes $EXPLORER_EMAIL/$EXPLORER_PASSWORD), seeds a neighbourhood of 14
// entities through the API, then through the page only: signs in (a wrong password first, to see
// a problem with its request id), searches by filters and by text (POST /v1/search, a hit found
// by its description), draws the neighbourhood (>= 10 nodes), expands a node by clicking it on
// the canvas and another with the keyboard, finds a shortest path, creates a relationship and
// sees it drawn, soft-deletes a relationship and an entity. It proves CSRF both ways: every write
// the page sends carries X-CSRF-Token (the __Host-sg_csrf value), and a write from the page
// without it is refused 403. It also drops the access cookie to see the page renew the session
// (POST /v1/auth/refresh) and carry on. Screenshots go to $SCREENSHOT_DIR. Run by `./dev test`.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { base, checks, launch, shots } from "./browser.mjs";

const { check, fail, finish } = checks("explorer browser test");

// ------------------------------------------------------------------ a user and a seeded graph

const run = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

function user() {
  if (process.env.EXPLORER_EMAIL && process.env.EXPLORER_PASSWORD) {
    return { email: process.env.EXPLORER_EMAIL, password: process.env.EXPLORER_PASSWORD };
  }
  const email = `explorer-${run}@example.com`;
  const password = randomBytes(18).toString("base64url");
  const bin = process.env.SPINGRAPH_BIN ?? "target/debug/spingraph";
  if (!process.env.DATABASE_URL) throw new Error("set DATABASE_URL (or EXPLORER_EMAIL and EXPLORER_PASSWORD)");
  // The password goes in on stdin, never in argv.
  const made = spawnSync(bin, ["admin", "create-user", "--email", email, "--role", "user",
    "--database-url", process.env.DATABASE_URL], { input: `${password}\n`, encoding: "utf8" });
  if (made.status !== 0) throw new Error(`create-user failed: ${made.stderr}`);
  return { email, password };
}

async function call(token, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Hub → six people → each one's office; Alpha's office → Alpha's city (depth 3 from the hub). */
async function seed(token) {
  const ids = {};
  const entity = async (name, type, more = {}) => {
    const made = await call(token, "POST", "/v1/entities",
      { type, name, confidence: 0.9, metadata: { run, seeded_by: "tests/browser/explorer.mjs", ...more } });
    if (made.status !== 201) throw new Error(`seeding ${name}: ${made.status} ${JSON.stringify(made.body)}`);
    ids[name] = made.body.id;
  };
  const relate = async (from, to, type) => {
    const made = await call(token, "POST", "/v1/relationships",
      { source_id: ids[from], target_id: ids[to], type, confidence: 0.8, metadata: { run } });
    if (made.status !== 201) throw new Error(`seeding ${from}→${to}: ${made.status} ${JSON.stringify(made.body)}`);
  };
  await entity("Hub", "person");
  for (const name of ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]) {
    await entity(name, "person");
    await entity(`${name} office`, "place");
    await relate("Hub", name, "works_with");
    await relate(name, `${name} office`, "works_at");
  }
  // Found by its description (full text over a declared metadata field), not by its name.
  await entity("Alpha city", "place", { description: `where the analytical engine of ${run} was built` });
  await relate("Alpha office", "Alpha city", "located_in");
  return ids;
}

// ------------------------------------------------------------------ the page

const browser = await launch();

try {
  const me = user();
  const login = await fetch(`${base}/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(me),
  });
  check(login.status === 200, `the seeding user signs in for a token (${login.status})`);
  const token = (await login.json()).access_token;
  const ids = await seed(token);
  check(Object.keys(ids).length === 14, `seeded 14 entities and 13 relationships (run ${run})`);

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const foreign = [];
  const writes = [];
  const errors = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
    if (r.url().startsWith(`${base}/v1/`) && r.method() !== "GET") {
      writes.push({ method: r.method(), path: new URL(r.url()).pathname, headers: r.headers() });
    }
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" || /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.on("dialog", (d) => d.accept());

  const idle = () => page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") !== "true");
  const nodeNames = () => page.$$eval("#node-list button", (bs) => bs.map((b) => b.firstChild.textContent));
  const nodeButton = (name) => page.locator(`#node-list button[data-id="${ids[name]}"]`);
  // Select entity `a` and pick it as end A, then `b` as end B (the path and relate forms use both).
  const pickEnds = async (a, b) => {
    for (const [name, button] of [[a, "#pick-a"], [b, "#pick-b"]]) {
      await nodeButton(name).click();
      await idle();
      await page.click(button);
    }
  };
  const shot = async (name) => {
    const file = join(shots, name);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`screenshot: ${file}`);
  };

  const response = await page.goto(`${base}/explore`, { waitUntil: "networkidle" });
  check(response?.status() === 200, "GET /explore answers 200");
  check((await page.title()) === "spingraph explorer", "the page is titled 'spingraph explorer'");
  check(await page.evaluate(() => typeof window.cy === "object"), "cytoscape loaded from /explore/cytoscape.min.js");
  const unlabelled = await page.$$eval("input, select", (els) => els.filter((e) => e.labels.length === 0).map((e) => e.id));
  check(unlabelled.length === 0, `every input has a label (${unlabelled.join(", ") || "all do"})`);
  check(await page.locator("#search button[type=submit]").isDisabled(), "search waits for sign-in");

  // A wrong password: the API's problem is shown with its request id.
  await page.fill("#email", me.email);
  await page.fill("#password", "not the password at all");
  await page.click("#sign-in button[type=submit]");
  await idle();
  const problem = page.locator("#problem");
  await problem.waitFor({ state: "visible" });
  const rid = await problem.locator("code.request-id").textContent();
  check(/\(401\)/.test(await problem.textContent()) && /^[A-Za-z0-9._-]{8,}$/.test(rid ?? ""),
    `a failed sign-in shows the 401 problem with its request id (${rid})`);

  // Sign in with the keyboard: Enter in the password field submits.
  await page.fill("#password", me.password);
  await page.press("#password", "Enter");
  await page.locator("#who").waitFor({ state: "visible" });
  check((await page.textContent("#who-email")) === me.email, "signed in through POST /v1/auth/session");
  check(await problem.isHidden(), "the earlier problem is cleared");
  const cookies = await context.cookies();
  const access = cookies.find((c) => c.name === "__Host-sg_access");
  const csrfCookie = cookies.find((c) => c.name === "__Host-sg_csrf");
  check(access?.httpOnly === true && access?.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");
  const storage = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
  }));
  check(storage.local === 0 && storage.session === 0, "nothing is kept in localStorage or sessionStorage");
  check(!storage.cookie.includes("sg_access"), "the page script cannot read the access token");

  // Search: a malformed metadata filter (the API's 400), an empty result, then the hub.
  await page.fill("#search-metadata", "{not json");
  await page.click("#search button[type=submit]");
  await idle();
  check(await problem.isVisible() && (await problem.locator("code.request-id").count()) === 1,
    `a rejected search shows the API problem with its request id: ${(await problem.textContent())?.trim()}`);
  await shot("explorer-problem.png");
  await page.fill("#search-type", "person");
  await page.fill("#search-q", `nobody-${run}`);
  await page.fill("#search-metadata", JSON.stringify({ run }));
  await page.click("#search button[type=submit]");
  await idle();
  check(await page.locator("#results-empty").isVisible()
    && (await page.textContent("#results-empty")) === "No entities match this search.", "an empty search says so");
  await page.fill("#search-q", "Hub");
  await page.click("#search button[type=submit]");
  await idle();
  const results = await page.$$eval("#results button", (bs) => bs.map((b) => b.dataset.id));
  check(results.length === 1 && results[0] === ids.Hub, `type + name + metadata finds the hub alone (${results.length})`);

  // Search by text (POST /v1/search): words of Alpha city's description find it; its hit shows
  // name, type and score, and choosing it draws its neighbourhood.
  await page.fill("#text-q", `analytical engine ${run}`);
  await page.press("#text-q", "Enter");
  await idle();
  const textHits = await page.$$eval("#text-results button", (bs) => bs.map((b) => ({
    id: b.dataset.id,
    name: b.firstChild.textContent,
    kind: b.querySelector(".kind")?.textContent,
    score: b.querySelector(".mark")?.textContent,
  })));
  check(textHits.length === 1 && textHits[0].id === ids["Alpha city"] && textHits[0].name === "Alpha city"
    && textHits[0].kind === "place" && /^score 0\.\d{4}$/.test(textHits[0].score ?? ""),
    `a text search finds Alpha city by its description, with type and score (${JSON.stringify(textHits)})`);
  check(writes.some((w) => w.method === "POST" && w.path === "/v1/search"), "the text search went to POST /v1/search");
  await page.click(`#text-results button[data-id="${ids["Alpha city"]}"]`);
  await idle();
  check((await page.evaluate((id) => window.cy.getElementById(id).hasClass("root"), ids["Alpha city"]))
    && (await page.textContent("#details-fields")).includes("Alpha city"),
    "choosing the hit draws Alpha city and shows its fields");
  await shot("explorer-text-search.png");
  await page.fill("#text-q", `zebra ${run}`);
  await page.click("#text-search button[type=submit]");
  await idle();
  check((await page.locator("#text-results button").count()) === 0 && await page.locator("#text-results-empty").isVisible(),
    "a text search with no match says so");

  // Draw the hub's neighbourhood, two hops.
  await page.selectOption("#depth", "2");
  await page.click(`#results button[data-id="${ids.Hub}"]`);
  await idle();
  const drawn = await nodeNames();
  const drawnInCy = await page.evaluate(() => window.cy.nodes().length);
  check(drawn.length >= 10 && drawn.length === 13 && drawnInCy === 13,
    `the neighbourhood is drawn: ${drawn.length} entities listed, ${drawnInCy} on the canvas`);
  check(await page.locator("#details-fields").textContent().then((t) => t.includes("Hub") && t.includes("Owner")),
    "the drawn entity's fields are shown (name, owner, ...)");
  await shot("explorer-neighbourhood.png");

  // Expand by clicking a node on the canvas: Alpha's office brings in Alpha's city.
  const box = await page.locator("#graph").boundingBox();
  const at = await page.evaluate((id) => window.cy.getElementById(id).renderedPosition(), ids["Alpha office"]);
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await idle();
  await page.waitForFunction(() => window.cy.nodes().length === 14, null, { timeout: 10_000 }).catch(() => {});
  const expanded = await nodeNames();
  check(expanded.length === 14 && expanded.includes("Alpha city"), `a click on Alpha office merges Alpha city in (${expanded.length} entities)`);
  check((await page.textContent("#details-heading")) === "Selected entity"
    && (await page.textContent("#details-fields")).includes("Alpha office"), "the clicked entity's fields are shown");

  // Expand with the keyboard from the accessible list: Bravo has nothing new.
  await nodeButton("Bravo").focus();
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  await page.keyboard.press("Enter");
  await idle();
  check(/no further neighbours/.test(await page.textContent("#status")), `Enter on Bravo in the list says it has no further neighbours: ${await page.textContent("#status")}`);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Shift+Tab");
  const focusOutline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(focusOutline !== "none" || outline !== "none", `keyboard focus is visible (outline ${focusOutline})`);

  // Shortest path: Charlie's office (A) to Alpha's city (B), both directions: 5 hops.
  await page.selectOption("#direction", "both");
  await pickEnds("Charlie office", "Alpha city");
  await page.click("#find-path");
  await idle();
  const steps = await page.$$eval("#path-steps li", (li) => li.map((l) => l.textContent));
  const onPath = await page.evaluate(() => ({
    nodes: window.cy.nodes(".on-path").length,
    edges: window.cy.edges(".on-path").length,
  }));
  check(steps.length === 6 && onPath.nodes === 6 && onPath.edges === 5,
    `the path is highlighted: ${onPath.nodes} entities, ${onPath.edges} relationships (${steps.join(" | ")})`);
  await shot("explorer-path.png");

  // Relate Bravo's office (A) to Charlie's office (B) and see the relationship drawn.
  await page.click("#clear-path");
  await pickEnds("Bravo office", "Charlie office");
  await page.fill("#rel-type", "near");
  await page.fill("#rel-confidence", "0.75");
  await page.click("#relate-submit");
  await idle();
  const created = await page.evaluate(() => {
    const edge = window.cy.edges().filter((e) => e.data("type") === "near")[0];
    return edge ? { id: edge.id(), source: edge.data("source"), target: edge.data("target"), confidence: edge.data("record").confidence } : null;
  });
  check(created?.source === ids["Bravo office"] && created?.target === ids["Charlie office"] && created?.confidence === 0.75,
    "the new relationship is drawn between the two chosen entities");
  const listed = await page.$$eval("#edge-list button", (bs) => bs.map((b) => b.textContent));
  check(listed.some((t) => t.startsWith("Bravo office → Charlie office") && t.includes("near")), "and listed beside the canvas");
  await shot("explorer-relationship.png");

  // CSRF, side one: the page sent the token on every cookie-authenticated write.
  // CSRF, side two: the same write from the page without the header is refused.
  const refused = await page.evaluate(async ([source_id, target_id]) => {
    const body = JSON.stringify({ source_id, target_id, type: "csrf-probe" });
    const attempt = async (headers) => {
      const r = await fetch("/v1/relationships",
        { method: "POST", credentials: "same-origin", headers: { ...headers, "x-test-probe": "1" }, body });
      return { status: r.status, type: r.headers.get("content-type"), body: await r.json() };
    };
    return {
      missing: await attempt({ "content-type": "application/json" }),
      wrong: await attempt({ "content-type": "application/json", "x-csrf-token": "not-the-token" }),
    };
  }, [ids.Delta, ids.Echo]);
  check(refused.missing.status === 403 && refused.missing.type?.startsWith("application/problem+json")
    && typeof refused.missing.body.request_id === "string",
    `a write from the page without X-CSRF-Token is refused 403 (${refused.missing.status}: ${refused.missing.body.detail})`);
  check(refused.wrong.status === 403, `and with a wrong token too (${refused.wrong.status})`);
  const probes = await call(token, "GET", `/v1/relationships?source_id=${ids.Delta}&type=csrf-probe`);
  check(probes.status === 200 && probes.body.items.length === 0, "the refused writes stored nothing");

  // Soft-delete the new relationship, then an entity (Foxtrot's office), from the page.
  await page.locator(`#edge-list button[data-id="${created?.id}"]`).click();
  await page.click("#delete");
  await idle();
  check((await page.locator(`#edge-list button[data-id="${created?.id}"]`).count()) === 0, "the deleted relationship leaves the drawing");
  check((await call(token, "GET", `/v1/relationships/${created?.id}`)).status === 404, "and the API no longer serves it");
  await nodeButton("Foxtrot office").click();
  await idle();
  await page.click("#delete");
  await idle();
  const afterDelete = await nodeNames();
  check(!afterDelete.includes("Foxtrot office") && afterDelete.length === 13, `the deleted entity leaves the drawing (${afterDelete.length} left)`);
  check(await page.locator("#details-empty").isVisible() && await page.locator("#details-actions").isHidden(),
    "with nothing selected, no actions are offered");
  check((await call(token, "GET", `/v1/entities/${ids["Foxtrot office"]}`)).status === 404, "and the API no longer serves it");

  await shot("explorer.png");

  // An expired access token: the page renews the session once (cookie refresh) and carries on.
  await context.clearCookies({ name: "__Host-sg_access" });
  await page.click("#search button[type=submit]");
  await idle();
  const renewed = (await context.cookies()).find((c) => c.name === "__Host-sg_csrf");
  check(await problem.isHidden() && (await page.locator("#results button").count()) === 1
    && writes.some((w) => w.path === "/v1/auth/refresh"),
    "without an access cookie the page refreshes the session and the search still answers");
  check(renewed?.value && renewed.value !== csrfCookie?.value, "the refresh brought a new CSRF token");

  await page.click("#sign-out");
  await idle();
  check(await page.locator("#sign-in").isVisible() && (await page.evaluate(() => window.cy.nodes().length)) === 0,
    "signing out (POST /v1/auth/logout) forgets the session and the drawing");

  const pageWrites = writes.filter((w) => w.path !== "/v1/auth/session" && !w.headers["x-test-probe"]);
  const tokens = [csrfCookie?.value, renewed?.value].filter(Boolean);
  const unsigned = pageWrites.filter((w) => !tokens.includes(w.headers["x-csrf-token"]));
  const logout = pageWrites.find((w) => w.path === "/v1/auth/logout");
  check(logout?.headers["x-csrf-token"] === renewed?.value, "signing out used the renewed token");
  check(pageWrites.length >= 5 && unsigned.length === 0,
    `every write the page sent carried X-CSRF-Token = __Host-sg_csrf (${pageWrites.map((w) => `${w.method} ${w.path}`).join(", ")})`);

  check(foreign.length === 0, `no request leaves the host (${foreign.join(", ") || "none"})`);
  // The expected 4xx answers (the wrong password, the bad filter, the CSRF probes) log as console
  // errors of failed requests; anything else is a script or CSP error.
  const unexpected = errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e));
  check(unexpected.length === 0, `no script or CSP errors (${unexpected.join("; ") || "none"})`);
} catch (e) {
  fail(e);
} finally {
  await browser.close();
}
finish();
