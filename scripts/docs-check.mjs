// The browser half of scripts/docs-check.sh: opens the docs page in headless Chromium (Debian's, through
// playwright-core: no browser download), waits for Swagger UI to render the spec, checks that every
// operation of the spec is listed, that nothing was logged as an error and nothing was fetched from
// anywhere but the server, and saves a full-page screenshot.
//
//   node scripts/docs-check.mjs BASE_URL SPEC_FILE SCREENSHOT_FILE
//
// Environment: CHROMIUM (default /usr/bin/chromium), DOCS_CHECK_TIMEOUT_MS (default 60000), and
// DOCS_CHECK_TOKEN: a bearer token for the server; with it, "Try it out" must get a 200 from it.
// Prints problems on stderr and exits 1 on any; on success prints a one-line summary on stdout.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { parse } from "yaml";

const [base, specFile, screenshot] = process.argv.slice(2);
if (!base || !specFile || !screenshot) {
  console.error("usage: node scripts/docs-check.mjs BASE_URL SPEC_FILE SCREENSHOT_FILE");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.DOCS_CHECK_TIMEOUT_MS || 60000);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// Every operation of the spec, read independently of the renderer.
const spec = parse(readFileSync(specFile, "utf8"));
const operations = [];
for (const [path, item] of Object.entries(spec?.paths ?? {})) {
  for (const method of METHODS) {
    const op = item?.[method];
    if (op) operations.push({ method: method.toUpperCase(), path, id: op.operationId, summary: op.summary });
  }
}
const problems = [];
if (operations.length === 0) problems.push(`${specFile} has no operations`);

const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), "docs-check-chromium-"));
let context;
let rendered = [];
let tried = "";
const token = process.env.DOCS_CHECK_TOKEN;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // The page must work offline: anything not from the server is refused and reported.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/") || url.startsWith("data:")) return route.continue();
    problems.push(`request outside the server: ${url}`);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()} (${msg.location().url || "page"})`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught exception: ${err.message}`));
  // (Requests outside the server are reported by the route above.)
  page.on("requestfailed", (req) => {
    if (req.url().startsWith(origin)) problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  const response = await page.goto(`${base}/docs`, { waitUntil: "load", timeout });
  if (!response?.ok()) problems.push(`GET /docs answered ${response?.status()}`);
  // Swagger UI is done when the operations are listed or when it shows why it could not be.
  await page
    .waitForSelector("#swagger-ui .opblock, #swagger-ui .errors-wrapper, #swagger-ui .loading-container .error", {
      timeout,
    })
    .catch(() => problems.push(`Swagger UI rendered no operation within ${timeout} ms`));
  await page.waitForLoadState("networkidle", { timeout }).catch(() => {});

  const errors = await page.$$eval("#swagger-ui .errors-wrapper, #swagger-ui .loading-container .error", (els) =>
    els.map((e) => e.innerText.replace(/\s+/g, " ").trim()),
  );
  for (const e of errors) problems.push(`Swagger UI reports: ${e}`);

  rendered = await page.$$eval("#swagger-ui .opblock", (blocks) =>
    blocks.map((b) => {
      const text = (sel) => b.querySelector(sel)?.textContent?.trim() ?? "";
      const summary = b.querySelector(".opblock-summary");
      return {
        method: text(".opblock-summary-method").toUpperCase(),
        path: b.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "",
        id: text(".opblock-summary-operation-id"),
        summary: text(".opblock-summary-description"),
        visible: !!summary && summary.getBoundingClientRect().height > 0,
      };
    }),
  );
  for (const op of operations) {
    const name = `${op.method} ${op.path}${op.id ? ` (${op.id})` : ""}`;
    const shown = rendered.filter((r) => r.method === op.method && r.path === op.path && r.visible);
    if (shown.length === 0) {
      problems.push(`not listed: ${name}`);
      continue;
    }
    if (op.id && !shown.some((r) => r.id === op.id)) problems.push(`listed without its operationId: ${name}`);
    const summary = op.summary?.trim();
    if (summary && !shown.some((r) => r.summary === summary)) problems.push(`listed without its summary: ${name}`);
  }

  await page.screenshot({ path: screenshot, fullPage: true });

  // Interactive: "Try it out" with a token reaches this server (whatever the spec's server port).
  if (token && problems.length === 0) {
    const path = "/v1/users/current/customers";
    const block = page
      .locator("#swagger-ui .opblock.opblock-get")
      .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
      .first();
    await page.click("#swagger-ui .auth-wrapper button.authorize");
    await page.fill(".auth-container input", token);
    await page.click(".auth-btn-wrapper button.authorize");
    await page.click(".auth-btn-wrapper button.btn-done");
    await block.locator(".opblock-summary").click();
    await block.locator("button.try-out__btn").click();
    await block.locator("button.execute").click();
    const status = block.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout });
    const code = (await status.textContent())?.trim();
    if (code === "200") tried = `; Try it out: GET ${path} answered 200`;
    else problems.push(`Try it out: GET ${path} answered ${code}`);
  }
} catch (err) {
  problems.push(`browser: ${err.message}`);
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const p of problems) console.error(`docs-check: ${p}`);
  console.error(
    `docs-check: FAIL: ${problems.length} problem(s); ${operations.length} operations in ${specFile}, ` +
      `${rendered.length} rendered`,
  );
  process.exit(1);
}
console.log(
  `docs-check: /docs lists all ${operations.length} operations of ${specFile} with no console errors; ` +
    `screenshot ${screenshot}${tried}`,
);
