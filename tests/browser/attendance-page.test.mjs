// Browser test of the course attendance page of the attend example app.
//
// Started by tests/browser/run.sh, which runs the app in demo mode and sets:
//   ATTEND_URL            the app's base URL
//   ATTEND_BROWSER_DEPS   where playwright-core is installed
//   ATTEND_SCREENSHOT_DIR where to write screenshots
//
// It plays the simulator's realistic class (a 60-minute class with a host restart at +30:00,
// so two sessions: [0, 30:00] and [32:00, 60:00]) and checks what an instructor sees:
// the live state while the class runs, the status of students whose behaviour the scenario
// fixes, the timeline bars of those students (how many, and where, relative to the session
// window), linking an unmatched guest to a student, and the CSV download.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import path from "node:path";

const BASE = process.env.ATTEND_URL;
const DEPS = process.env.ATTEND_BROWSER_DEPS;
const SHOTS = process.env.ATTEND_SCREENSHOT_DIR;
assert.ok(BASE && DEPS && SHOTS, "run this through tests/browser/run.sh");

const require = createRequire(path.join(DEPS, "package.json"));
const { chromium } = require("playwright-core");

// The demo data (examples/lms/src/demo.rs).
const COURSE = "cs101";
const INSTRUCTOR = "t-ada";

// The scenario, in minutes from the class start (examples/zoom-sim Scenario::typical_class).
const SESSION1 = [0, 30];
const SESSION2 = [32, 60];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function getJson(url, token, init = {}) {
  const headers = Object.assign({ Accept: "application/json" }, init.headers || {});
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  assert.ok(res.ok, `${init.method || "GET"} ${url} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function waitFor(what, fn, timeoutMs, intervalMs = 500) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(intervalMs);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** Bars of one timeline row as fractions of the track: [{left, width, source}]. */
async function barsOf(page, selector) {
  return page.$$eval(`${selector} .tl-bar`, (bars) => bars.map((b) => {
    const track = b.parentElement.getBoundingClientRect();
    const r = b.getBoundingClientRect();
    return { left: (r.left - track.left) / track.width, width: r.width / track.width, source: b.dataset.source };
  }).sort((a, b) => a.left - b.left));
}

function assertNear(actual, expected, tolerance, what) {
  assert.ok(Math.abs(actual - expected) <= tolerance,
    `${what}: expected about ${expected.toFixed(3)}, got ${actual.toFixed(3)}`);
}

test("the course attendance page shows a simulated class the way it happened", async (t) => {
  const { token } = await getJson(`${BASE}/lms/dev/token?user=${INSTRUCTOR}`);
  const browser = await launch();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // Start the class, paced so that it runs for a while in real time.
  const play = await getJson(`${BASE}/lms/dev/play-class?course=${COURSE}&pace=20`, null, { method: "POST" });
  assert.ok(play.meeting_id, "play-class names the meeting");
  const byLabel = (label) => {
    const p = play.cast.filter((c) => c.label === label);
    assert.ok(p.length > 0, `the cast has a ${label}`);
    return p[0];
  };

  await page.goto(`${BASE}/lms/courses/${COURSE}/attendance?token=${encodeURIComponent(token)}`);
  // The token does not stay in the address bar.
  assert.ok(!page.url().includes("token="), "the token is removed from the URL");

  await t.test("while the class runs the page says it is live", async () => {
    await page.waitForSelector('#state-pill[data-state="live"]', { timeout: 20000 });
    assert.equal((await page.textContent("#state-pill")).trim().toLowerCase(), "live");
    await page.screenshot({ path: path.join(SHOTS, "attendance-live.png"), fullPage: false });
  });

  await t.test("after the class the roster settles (provisional, then final)", async () => {
    const attendanceUrl = `${BASE}/attend/meetings/${encodeURIComponent(play.meeting_id)}/attendance`;
    const instancesUrl = `${BASE}/attend/meetings/${encodeURIComponent(play.meeting_id)}/instances`;
    // The host restart makes two sessions. Between the first session's end and the second's
    // first event the roster of the one known session can already be final: wait for both.
    await waitFor("the final roster of both sessions", async () =>
      (await getJson(attendanceUrl, token)).state === "final" &&
      ((await getJson(instancesUrl, token)).instances || []).length === 2, 90000, 1000);
    // The page polls: it shows "final" and both sessions without a reload.
    await page.waitForSelector('#state-pill[data-state="final"]', { timeout: 30000 });
    await page.waitForFunction(() => document.querySelectorAll(".session-tab").length >= 3, null, { timeout: 30000 })
      .catch(() => {});
    const tabs = await page.$$eval(".session-tab", (els) => els.map((e) => e.textContent.trim()));
    assert.equal(tabs.length, 3, `"All sessions" plus two sessions (host restart), got ${JSON.stringify(tabs)}`);
  });

  // Always start the checks from the aggregate view ("All sessions").
  await page.click('.session-tab[data-instance=""]');
  await page.waitForSelector('body[data-view="all"]');
  await page.waitForSelector("#roster tbody tr");

  await t.test("students show the status their behaviour earns", async () => {
    const expected = {
      "late joiner": "Late",           // first join at +12:00 (limit 5 min)
      "early leaver": "Left early",    // leaves for good at +54:00 (limit: 55:00)
      "two devices": "Present",        // laptop all along, phone for a while
      "partial": "Partial",            // only from +50:30: 9.5 of 58 minutes
      "absent": "Absent",
      "waiting room, never admitted": "Absent",
      "leaves from a breakout room": "Left early", // gone at +46:00 from a breakout room
    };
    for (const [label, status] of Object.entries(expected)) {
      const who = byLabel(label);
      const badge = (await page.textContent(`#roster tr[data-user-id="${who.user_id}"] .badge`)).trim();
      assert.equal(badge, status, `${label} (${who.name})`);
      const dot = await page.getAttribute(`.tl-row[data-user-id="${who.user_id}"]`, "data-status");
      assert.equal(dot, { "Late": "late", "Left early": "left_early", "Present": "present", "Partial": "partial", "Absent": "absent" }[status]);
    }
    // Names, not ids, are shown.
    const name = (await page.textContent(`#roster tr[data-user-id="${byLabel("late joiner").user_id}"] .nm`)).trim();
    assert.equal(name, byLabel("late joiner").name);
  });

  await t.test("the summary cards agree with attend's numbers", async () => {
    const api = await getJson(`${BASE}/attend/meetings/${encodeURIComponent(play.meeting_id)}/attendance`, token);
    for (const key of ["present", "late", "left_early", "partial", "absent", "unmatched"]) {
      const shown = Number((await page.textContent(`.stat[data-stat="${key}"] .n`)).trim());
      assert.equal(shown, api.summary[key], `summary ${key}`);
    }
    const rows = await page.$$eval("#roster tbody tr", (trs) => trs.length);
    assert.equal(rows, api.roster.length, "one roster row per student");
  });

  await t.test("the aggregate timeline spans both sessions with the gap between them", async () => {
    const gaps = await page.$$eval(".tl-row:first-of-type .tl-gap, .tl-row .tl-gap", (g) => g.length);
    assert.ok(gaps > 0, "the restart gap is drawn");
    // "Not back after the restart": one stretch in session 1, nothing in session 2.
    const who = byLabel("not back after the restart");
    const bars = await barsOf(page, `.tl-row[data-user-id="${who.user_id}"]`);
    assert.ok(bars.length >= 1, "at least one bar");
    const end = Math.max(...bars.map((b) => b.left + b.width));
    assertNear(end, SESSION1[1] / SESSION2[1], 0.02, "ends at the first session's end (30 of 60 minutes)");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, "attendance-page.png"), fullPage: false });
    await page.screenshot({ path: path.join(SHOTS, "attendance-full.png"), fullPage: true });
  });

  await t.test("per session, bars sit where the student was there", async () => {
    const first = await page.getAttribute(".session-tab:nth-child(2)", "data-instance");
    await page.click(".session-tab:nth-child(2)");
    await page.waitForFunction((uuid) => document.body.dataset.view === uuid, first);
    const len = SESSION1[1] - SESSION1[0];

    const late = byLabel("late joiner");
    const lateBars = await barsOf(page, `.tl-row[data-user-id="${late.user_id}"]`);
    assert.equal(lateBars.length, 1, "the late joiner has one stretch in session 1");
    assertNear(lateBars[0].left, 12 / len, 0.015, "late joiner starts at +12:00");
    assertNear(lateBars[0].left + lateBars[0].width, 1, 0.015, "and stays to the end");

    const rejoin = byLabel("disconnect and rejoin");
    const rejoinBars = await barsOf(page, `.tl-row[data-user-id="${rejoin.user_id}"]`);
    // Two stretches: +1:00..+14:00 and +16:30..+30:00 (a report interval may overlay the
    // same stretch; it never adds one).
    const starts = [...new Set(rejoinBars.map((b) => Math.round(b.left * len * 2) / 2))];
    assert.deepEqual(starts, [1, 16.5], `disconnect and rejoin starts: ${JSON.stringify(rejoinBars)}`);
    const firstEnd = Math.max(...rejoinBars.filter((b) => b.left < 0.5).map((b) => b.left + b.width));
    assertNear(firstEnd, 14 / len, 0.015, "the first stretch ends at the disconnect (+14:00)");

    const absent = byLabel("absent");
    assert.equal((await barsOf(page, `.tl-row[data-user-id="${absent.user_id}"]`)).length, 0, "no bar for an absent student");
    const axis = await page.$$eval(".tl-axis .tl-tick.window", (ts) => ts.map((t) => t.dataset.t));
    assert.equal(axis.length, 2, "the window start and end are on the axis");
    assertNear((Date.parse(axis[1]) - Date.parse(axis[0])) / 60000, len, 0.05, "the axis spans session 1");
    await page.screenshot({ path: path.join(SHOTS, "attendance-session1.png"), fullPage: true });
  });

  await t.test("linking an unmatched guest to a student updates the roster", async () => {
    await page.click('.session-tab[data-instance=""]');
    await page.waitForSelector('body[data-view="all"]');
    const target = play.cast.filter((c) => c.label === "absent").at(-1);
    const row = page.locator(".um-row", { hasText: "Visiting Parent" });
    await row.locator("select").selectOption(target.user_id);
    await row.locator("button").click();
    // The guest was there +06:00..+25:00 (19 of 58 minutes): the student is now partial,
    // linked by hand, and the guest is no longer unmatched.
    await page.waitForFunction((id) => {
      const b = document.querySelector(`#roster tr[data-user-id="${id}"] .badge`);
      return b && b.dataset.status !== "absent";
    }, target.user_id, { timeout: 15000 });
    assert.equal((await page.textContent(`#roster tr[data-user-id="${target.user_id}"] .badge`)).trim(), "Partial");
    assert.equal(await page.getAttribute(`#roster tr[data-user-id="${target.user_id}"] .matched`, "data-matched-by"), "manual");
    assert.equal(await page.locator(".um-row", { hasText: "Visiting Parent" }).count(), 0);
    const bars = await barsOf(page, `.tl-row[data-user-id="${target.user_id}"]`);
    assert.ok(bars.length >= 1 && bars.some((b) => b.source === "manual" || b.source === "webhook" || b.source === "report"));
  });

  await t.test("the CSV download holds one row per student and one per unmatched person", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const lines = (await readFile(await download.path(), "utf8")).trim().split(/\r?\n/);
    const header = lines[0].split(",");
    const col = (name) => {
      const i = header.indexOf(name);
      assert.ok(i >= 0, `CSV column ${name} in ${lines[0]}`);
      return i;
    };
    const [kind, userId, status] = [col("kind"), col("user_id"), col("status")];
    const rows = lines.slice(1).map((l) => l.split(","));
    const shown = await page.$$eval("#roster tbody tr", (trs) => trs.map((tr) => [tr.dataset.userId, tr.dataset.status]));
    const users = rows.filter((r) => r[kind] === "user").map((r) => [r[userId], r[status]]);
    assert.deepEqual(users.sort(), shown.sort(), "the CSV's user rows are the roster on the page");
    const unmatchedShown = await page.$$eval(".um-row", (els) => els.length);
    assert.equal(rows.filter((r) => r[kind] === "unmatched").length, unmatchedShown, "one CSV row per unmatched person");
  });

  assert.deepEqual(errors, [], "no script errors on the page");
});
