// What the browser tests share: playwright-core from ./dev's install, the host under test
// ($SPINGRAPH_URL), the screenshot folder ($SCREENSHOT_DIR), headless Debian Chromium, and the
// list of checks that decides the exit status.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

// playwright-core is installed by ./dev under target/ (ES modules ignore NODE_PATH).
const modules = resolve(process.env.PLAYWRIGHT_NODE_MODULES ?? "target/browser-test/node_modules");
const { chromium } = createRequire(join(modules, "noop.js"))("playwright-core");

export const base = process.env.SPINGRAPH_URL ?? "http://127.0.0.1:3000";
export const shots = process.env.SCREENSHOT_DIR ?? "target/test-output";
mkdirSync(shots, { recursive: true });

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

// `check(ok, what)` prints each result; `fail(error)` records an exception; `finish()` ends the
// process with status 1 when anything failed.
export function checks(name) {
  const failures = [];
  return {
    check(ok, what) {
      console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
      if (!ok) failures.push(what);
    },
    fail(e) {
      failures.push(String(e));
      console.error(e);
    },
    finish() {
      if (failures.length) {
        console.error(`${name} failed: ${failures.length} check(s)`);
        process.exit(1);
      }
      console.log(`${name} passed`);
    },
  };
}
