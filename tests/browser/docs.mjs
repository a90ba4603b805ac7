// The interactive API page in a real browser: headless Debian Chromium (playwright-core) opens
// /docs on a running host ($SPINGRAPH_URL), sees the operations of openapi.yaml listed, runs
// GET /v1/health/live through "Try it out" / "Execute", checks the page shows a 200, and saves a
// screenshot under $SCREENSHOT_DIR. Run by `./dev test` (see browser_test in ./dev).
import { join } from "node:path";
import { base, checks, launch, shots } from "./browser.mjs";

const { check, fail, finish } = checks("browser test");

const browser = await launch();

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  // Everything the page loads must come from the host itself (assets bundled, no CDN).
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  const response = await page.goto(`${base}/docs`, { waitUntil: "networkidle" });
  check(response?.status() === 200, "GET /docs answers 200");
  await page.waitForSelector(".opblock", { timeout: 30_000 });
  check((await page.title()) === "spingraph API", "the page is titled 'spingraph API'");

  const spec = await (await page.request.get(`${base}/v1/openapi.json`)).json();
  const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`));
  const listed = await page.$$eval(".opblock-summary", (nodes) =>
    nodes.map((n) => {
      const method = n.querySelector(".opblock-summary-method")?.textContent?.trim();
      const path = n.querySelector(".opblock-summary-path")?.getAttribute("data-path")
        ?? n.querySelector(".opblock-summary-path")?.textContent?.trim();
      return `${method} ${path}`.replace(/\u200b/g, "");
    }));
  const missing = documented.filter((op) => !listed.includes(op));
  check(documented.length > 20 && missing.length === 0,
    `all ${documented.length} documented operations are listed (missing: ${missing.join(", ") || "none"})`);

  // Run one request from the page.
  const live = page.locator("#operations-health-getLive");
  await live.locator(".opblock-summary").click();
  await live.locator("button.try-out__btn").click();
  await live.locator("button.execute").click();
  const status = live.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: 30_000 });
  const code = (await status.textContent())?.trim();
  check(code === "200", `"Execute" on GET /v1/health/live shows status 200 (got ${code})`);
  const body = await live.locator(".live-responses-table .microlight").first().textContent();
  check(/"status":\s*"up"/.test(body ?? ""), "the response body shows status up");

  check(foreign.length === 0, `no request leaves the host (${foreign.join(", ") || "none"})`);
  check(errors.length === 0, `no script errors (${errors.join("; ") || "none"})`);

  const file = join(shots, "docs.png");
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot: ${file}`);
} catch (e) {
  fail(e);
} finally {
  await browser.close();
}
finish();
