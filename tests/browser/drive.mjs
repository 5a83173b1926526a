// Drives headless Chromium with playwright-core for the browser tests
// (`tests/status_browser.rs`). It knows nothing about the status site: it reads a script
// of pages and steps (JSON, the file named by the first argument), runs it, and prints one
// JSON report (to the file the script names, so a large report never fills a pipe). The Rust test decides what the numbers mean.
//
// Script:
//   {
//     "report": "/…/report.json",                   // where the report is written
//     "chromium": "/usr/bin/chromium",             // the browser binary
//     "playwright_core": "/…/node_modules/playwright-core",
//     "screenshots": "/…/target/status-screenshots", // where `screenshot` steps write
//     "pages": [{
//       "name": "index-desktop",                    // names the page in the report
//       "url": "file:///…/index.html",
//       "viewport": {"width": 1280, "height": 900},
//       "steps": [ {"op": "count", "id": "rows", "selector": "tbody tr", "visible": true}, … ]
//     }]
//   }
//
// Steps (`id` names the result; steps without a result need no id):
//   count      {selector, visible?}        → number of matching elements
//   texts      {selector, visible?}        → their trimmed textContent, in document order
//   attributes {selector, name, visible?}  → their attribute `name` (null when absent)
//   click      {selector}                  → clicks the first match (waits for it)
//   fill       {selector, text}            → types into an input (fires `input`)
//   press      {selector, key}             → presses a key in an element
//   select     {selector, value}           → chooses an option of a <select> (fires `change`)
//   wait       {ms}                        → sleeps (animations, debounced filters)
//   url        {}                          → the page's URL once loaded (after a click that navigates)
//   layout     {}                          → {scroll_width, client_width, viewport_width}
//   links      {}                          → every a[href] resolved to an absolute URL
//   eval       {expression}                → the JSON value of a JS expression in the page
//   screenshot {file, full_page?}          → writes <screenshots>/<file>
//
// Per page the report holds the console errors, uncaught page errors, failed requests and
// requests that left the local files (anything but file:, data:, blob:, about:; they are
// recorded and aborted, so a page that needs the network fails fast), the page
// title, the results by id, and the first step that failed (with the step and the error);
// a failed step ends that page, not the run. The process exits 0 when the report was
// written, 2 on a bad script or when the browser cannot start.

import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const STEP_TIMEOUT_MS = 5_000;
const LOCAL_SCHEMES = ["file:", "data:", "blob:", "about:"];
const isLocal = (url) => LOCAL_SCHEMES.some((scheme) => url.startsWith(scheme));

function fail(message) {
  process.stderr.write(`drive.mjs: ${message}\n`);
  process.exit(2);
}

// The matches of `selector`, visible ones only when asked (a filtered-out row is hidden by
// `display: none`, the `hidden` attribute or `visibility: hidden`), mapped to what the step
// reports: their text, one attribute, or nothing (the count is the length).
function collect(page, selector, visible, what) {
  return page.$$eval(
    selector,
    (elements, { visible, what }) =>
      elements
        .filter(
          (e) =>
            !visible ||
            (e.getClientRects().length > 0 &&
              getComputedStyle(e).visibility !== "hidden"),
        )
        .map((e) =>
          what.kind === "text"
            ? e.textContent.trim().replace(/\s+/g, " ")
            : what.kind === "attribute"
              ? e.getAttribute(what.name)
              : null,
        ),
    { visible, what },
  );
}

async function runStep(page, step, screenshots) {
  const visible = Boolean(step.visible);
  switch (step.op) {
    case "count":
      return (await collect(page, step.selector, visible, { kind: "none" })).length;
    case "texts":
      return collect(page, step.selector, visible, { kind: "text" });
    case "attributes":
      return collect(page, step.selector, visible, { kind: "attribute", name: step.name });
    case "click":
      await page.click(step.selector, { timeout: STEP_TIMEOUT_MS });
      return null;
    case "fill":
      await page.fill(step.selector, step.text, { timeout: STEP_TIMEOUT_MS });
      return null;
    case "press":
      await page.press(step.selector, step.key, { timeout: STEP_TIMEOUT_MS });
      return null;
    case "select":
      await page.selectOption(step.selector, step.value, { timeout: STEP_TIMEOUT_MS });
      return null;
    case "wait":
      await page.waitForTimeout(step.ms);
      return null;
    case "url":
      await page.waitForLoadState("load", { timeout: STEP_TIMEOUT_MS });
      return page.url();
    case "layout":
      return page.evaluate(() => ({
        scroll_width: document.documentElement.scrollWidth,
        client_width: document.documentElement.clientWidth,
        viewport_width: window.innerWidth,
      }));
    case "links":
      return page.$$eval("a[href]", (anchors) => anchors.map((a) => a.href));
    case "eval":
      return page.evaluate(step.expression);
    case "screenshot":
      await page.screenshot({
        path: join(screenshots, step.file),
        fullPage: Boolean(step.full_page),
        timeout: STEP_TIMEOUT_MS * 3,
      });
      return step.file;
    default:
      throw new Error(`unknown op \`${step.op}\``);
  }
}

// One browser tab per viewport size, reused from page to page (a new tab per page costs
// about as much as loading the page). Its listeners file what they see under the page
// being run; between two pages the tab visits about:blank, so the previous document is
// gone (and its last events filed under it) before the next one starts.
async function openTab(context, viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const tab = { page, report: null };
  page.on("console", (message) => {
    if (tab.report && message.type() === "error") {
      const location = message.location();
      tab.report.console_errors.push({
        text: message.text(),
        url: location ? location.url : null,
        line: location ? location.lineNumber : null,
      });
    }
  });
  page.on("pageerror", (error) => tab.report && tab.report.page_errors.push(String(error)));
  page.on("requestfailed", (request) => {
    if (tab.report)
      tab.report.failed_requests.push({
        url: request.url(),
        error: request.failure() ? request.failure().errorText : null,
      });
  });
  page.on("request", (request) => {
    const url = request.url();
    if (tab.report && !isLocal(url)) tab.report.external_requests.push(url);
  });
  return tab;
}

async function runPage(tab, spec, screenshots) {
  const report = {
    name: spec.name,
    url: spec.url,
    title: null,
    console_errors: [],
    page_errors: [],
    failed_requests: [],
    external_requests: [],
    results: {},
    failed_step: null,
  };
  const page = tab.page;
  try {
    await page.goto("about:blank");
    tab.report = report;
    await page.goto(spec.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS * 3 });
    report.title = await page.title();
  } catch (error) {
    tab.report = report;
    report.failed_step = { index: -1, step: { op: "goto" }, error: String(error) };
  }
  const steps = spec.steps || [];
  for (let index = 0; report.failed_step === null && index < steps.length; index++) {
    const step = steps[index];
    try {
      const result = await runStep(page, step, screenshots);
      if (step.id !== undefined) report.results[step.id] = result;
    } catch (error) {
      report.failed_step = { index, step, error: String(error) };
    }
  }
  // Let what the last step set off (a re-render, a timer) report its errors here.
  await page
    .evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0))))
    .catch(() => {});
  return report;
}

async function main() {
  const scriptPath = process.argv[2];
  if (!scriptPath) fail("usage: node drive.mjs SCRIPT.json");
  let script;
  try {
    script = JSON.parse(readFileSync(scriptPath, "utf8"));
  } catch (error) {
    fail(`cannot read the script \`${scriptPath}\`: ${error}`);
  }
  const require = createRequire(import.meta.url);
  let chromium;
  try {
    ({ chromium } = require(script.playwright_core));
  } catch (error) {
    fail(`cannot load playwright-core from \`${script.playwright_core}\`: ${error}`);
  }
  mkdirSync(script.screenshots, { recursive: true });
  let browser;
  try {
    // The flags keep Chromium off the network (this machine's network is closed, and the
    // pages must not need it) and away from the first-run and sync machinery.
    browser = await chromium.launch({
      executablePath: script.chromium,
      headless: true,
      args: [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (error) {
    fail(`cannot start \`${script.chromium}\`: ${error}`);
  }
  const report = { browser_version: browser.version(), pages: [] };
  try {
    const context = await browser.newContext();
    await context.route(
      (url) => !isLocal(url.href),
      (route) => route.abort("blockedbyclient"),
    );
    const tabs = new Map();
    for (const spec of script.pages) {
      const key = spec.viewport ? `${spec.viewport.width}x${spec.viewport.height}` : "default";
      if (!tabs.has(key)) tabs.set(key, await openTab(context, spec.viewport));
      report.pages.push(await runPage(tabs.get(key), spec, script.screenshots));
    }
    await context.close();
  } finally {
    await browser.close();
  }
  writeFileSync(script.report, JSON.stringify(report));
}

main().catch((error) => fail(String(error && error.stack ? error.stack : error)));
