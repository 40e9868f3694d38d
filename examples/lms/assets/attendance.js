// The course attendance page of the attend example LMS.
//
// Plain JavaScript, no dependencies, no network beyond this app. It reads attend's HTTP API
// (mounted at /attend) and the LMS's own routes (/lms) with an instructor's bearer token, and
// draws: the sessions of the course's meeting, a summary, a timeline (one row per student,
// one bar per interval of presence, coloured by where the interval came from), the roster,
// and the participants attend could not tie to a student, with a "link to student" action.
// While a session runs the page polls and says so ("live"); after the end the numbers are
// "provisional" until Zoom's report has been merged ("final").
"use strict";

(() => {
  const CONFIG = JSON.parse(document.getElementById("attend-config").textContent);
  const ATTEND = CONFIG.attend_base;
  const LMS = CONFIG.lms_base;
  const TOKEN_KEY = "attend-example-token";

  const STATUS_LABEL = {
    present: "Present", late: "Late", left_early: "Left early",
    partial: "Partial", absent: "Absent", unmatched: "Unmatched",
  };
  const STATUS_ORDER = { present: 0, late: 1, left_early: 2, partial: 3, absent: 4 };
  const SOURCE_LABEL = { webhook: "webhook", report: "Zoom report", manual: "manual" };
  const MATCHED_LABEL = {
    registrant_id: "personal link", customer_key: "SDK key", email: "email", manual: "linked by hand",
  };
  const STATE_LABEL = { live: "Live", provisional: "Provisional", final: "Final" };
  const STATE_HELP = {
    live: "The session is running: the page refreshes every few seconds.",
    provisional: "The session ended. Numbers come from Zoom's webhooks; they become final once Zoom's participant report is merged.",
    final: "Reconciled with Zoom's participant report. These numbers will not change unless someone is linked by hand.",
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    me: null,
    course: null,
    students: [],
    names: new Map(),
    meetings: [],
    meetingId: null,
    instances: [],
    instance: null, // null = all sessions (aggregate)
    chosen: false, // whether the person picked a session (else the page picks one)
    attendance: null,
    live: null,
    filter: null,
    sort: { key: "name", asc: true },
    timer: null,
    loading: false,
  };

  // ---------------------------------------------------------------- small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") node.setAttribute("style", v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const ms = (iso) => (iso ? Date.parse(iso) : NaN);
  const pad2 = (n) => String(n).padStart(2, "0");
  function hm(iso) {
    const t = new Date(iso);
    return isNaN(t) ? "—" : `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  }
  function hms(iso) {
    const t = new Date(iso);
    return isNaN(t) ? "—" : `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
  }
  function dateLabel(iso) {
    const t = new Date(iso);
    if (isNaN(t)) return "";
    return t.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  }
  /** Seconds as h:mm (attended time). */
  function hmm(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    return `${Math.floor(s / 3600)}:${pad2(Math.floor((s % 3600) / 60))}`;
  }
  /** Seconds as a short human duration: "45 s", "12 min", "1 h 05 min". */
  function human(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    if (s < 60) return `${s} s`;
    const m = Math.round(s / 60);
    if (m < 60) return `${m} min`;
    return `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
  }
  const nameOf = (userId) => state.names.get(userId) || userId;

  function notice(text, kind) {
    const n = $("notice");
    if (!text) { n.hidden = true; return; }
    n.textContent = text;
    n.className = "notice" + (kind === "error" ? " error" : "");
    n.hidden = false;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    const res = await fetch(path, { method: options.method || "GET", headers, body: options.body });
    if (options.raw) {
      if (!res.ok) throw new ApiError(res.status, "http_" + res.status, `${res.status} ${res.statusText}`);
      return res;
    }
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!res.ok) {
      const err = body && body.error ? body.error : {};
      throw new ApiError(res.status, err.code || "http_" + res.status, err.message || `${res.status} ${res.statusText}`);
    }
    return body;
  }

  // ---------------------------------------------------------------- token

  function decodeClaims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
    } catch (_) {
      return null;
    }
  }

  async function obtainToken() {
    const url = new URL(window.location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl) {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
      url.searchParams.delete("token");
      history.replaceState(null, "", url.toString());
      return fromUrl;
    }
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) {
      const claims = decodeClaims(stored);
      if (claims && (!claims.exp || claims.exp * 1000 > Date.now() + 30000)) return stored;
      sessionStorage.removeItem(TOKEN_KEY);
    }
    if (CONFIG.demo && CONFIG.dev_user) {
      const res = await fetch(`${LMS}/dev/token?user=${encodeURIComponent(CONFIG.dev_user)}`);
      if (res.ok) {
        const body = await res.json();
        sessionStorage.setItem(TOKEN_KEY, body.token);
        return body.token;
      }
    }
    return null;
  }

  function askForToken(message) {
    $("token-form").hidden = false;
    if (message) notice(message, "error");
    $("token-form").onsubmit = (ev) => {
      ev.preventDefault();
      const t = $("token-input").value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      $("token-form").hidden = true;
      notice(null);
      start(t);
    };
  }

  // ---------------------------------------------------------------- loading

  function readUrlState() {
    const url = new URL(window.location.href);
    return { meeting: url.searchParams.get("meeting"), instance: url.searchParams.get("instance") };
  }

  function writeUrlState() {
    const url = new URL(window.location.href);
    if (state.meetingId) url.searchParams.set("meeting", state.meetingId); else url.searchParams.delete("meeting");
    if (state.instance) url.searchParams.set("instance", state.instance); else url.searchParams.delete("instance");
    history.replaceState(null, "", url.toString());
  }

  async function start(token) {
    state.token = token;
    state.me = decodeClaims(token);
    try {
      const course = await api(`${LMS}/courses/${encodeURIComponent(CONFIG.course_id)}`);
      state.course = course.course;
      state.students = course.students || [];
      state.names = new Map();
      for (const u of course.people || []) state.names.set(u.id, u.name);
      for (const s of state.students) state.names.set(s.id, s.name);
      if (state.me) {
        const myName = state.names.get(state.me.sub) || (course.course.instructor && course.course.instructor.id === state.me.sub ? course.course.instructor.name : state.me.sub);
        $("who").replaceChildren("Signed in as ", el("b", { text: myName }), ` · ${state.me.role || "user"}`);
      }
      $("course-title").textContent = course.course.title;
      document.title = `Attendance · ${course.course.title}`;
      const meetings = await api(`${ATTEND}/meetings?group=${encodeURIComponent(CONFIG.course_id)}`);
      state.meetings = meetings.meetings || [];
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken("That token was not accepted (expired or signed with another secret). Paste a fresh one.");
        return;
      }
      notice(`Could not load the course: ${e.message}`, "error");
      $("meeting-line").textContent = "";
      return;
    }
    if (state.meetings.length === 0) {
      renderNoMeeting();
      return;
    }
    if (CONFIG.demo) $("play-class").hidden = false;
    const wanted = readUrlState();
    state.meetingId = state.meetings.some((m) => m.id === wanted.meeting) ? wanted.meeting : state.meetings[0].id;
    state.instance = wanted.instance || null;
    state.chosen = Boolean(wanted.instance);
    renderMeetingSelect();
    await refresh(true);
  }

  function currentMeeting() {
    return state.meetings.find((m) => m.id === state.meetingId) || null;
  }

  async function refresh(first) {
    if (state.loading) return;
    state.loading = true;
    try {
      const m = currentMeeting();
      const inst = await api(`${ATTEND}/meetings/${encodeURIComponent(m.id)}/instances`);
      state.instances = (inst.instances || []).slice().sort((a, b) => ms(a.started_at) - ms(b.started_at));
      if (state.instance && !state.instances.some((i) => i.uuid === state.instance)) {
        state.instance = null;
        state.chosen = false;
      }
      // Until someone picks a session: the only one, or all of them together.
      if (!state.chosen) state.instance = state.instances.length === 1 ? state.instances[0].uuid : null;
      renderSessions();
      if (state.instances.length === 0) {
        state.attendance = null;
        renderWaiting();
      } else {
        const q = state.instance ? `?instance=${encodeURIComponent(state.instance)}` : "";
        state.attendance = await api(`${ATTEND}/meetings/${encodeURIComponent(m.id)}/attendance${q}`);
        state.live = null;
        if (state.attendance.state === "live") {
          try { state.live = await api(`${ATTEND}/meetings/${encodeURIComponent(m.id)}/live`); } catch (_) { state.live = null; }
        }
        renderAll();
      }
      writeUrlState();
      $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (!first && $("notice").classList.contains("error")) notice(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        stopPolling();
        askForToken("Your token expired. Paste a fresh one to continue.");
      } else {
        notice(`Could not refresh attendance: ${e.message}`, "error");
      }
    } finally {
      state.loading = false;
      schedule();
    }
  }

  function anyLive() {
    return state.instances.some((i) => i.state === "live") || (state.attendance && state.attendance.state === "live");
  }

  function schedule() {
    stopPolling();
    let delay = CONFIG.poll_idle_ms;
    if (anyLive()) delay = CONFIG.poll_live_ms;
    else if (state.attendance && state.attendance.state === "provisional") delay = CONFIG.poll_provisional_ms;
    state.timer = setTimeout(() => {
      if (document.visibilityState === "hidden") schedule();
      else refresh(false);
    }, delay);
  }

  function stopPolling() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  // ---------------------------------------------------------------- rendering: frame

  function renderMeetingSelect() {
    $("controls").hidden = false;
    const sel = $("meeting-select");
    sel.replaceChildren(...state.meetings.map((m) => el("option", { value: m.id, selected: m.id === state.meetingId }, m.topic || `Zoom ${m.zoom_meeting_id}`)));
    $("meeting-field").hidden = state.meetings.length < 2;
    sel.onchange = () => {
      state.meetingId = sel.value;
      state.instance = null;
      state.chosen = false;
      refresh(true);
    };
    $("csv").disabled = false;
  }

  function formatZoomId(id) {
    const s = String(id);
    return s.length >= 10 ? `${s.slice(0, 3)} ${s.slice(3, 7)} ${s.slice(7)}` : s;
  }

  function renderMeetingLine() {
    const m = currentMeeting();
    const bits = [m.topic || "Zoom meeting", `${m.kind === "webinar" ? "Webinar" : "Meeting"} ${formatZoomId(m.zoom_meeting_id)}`];
    const p = m.policy || {};
    bits.push(`present from ${Math.round((p.required_ratio ?? 0.5) * 100)} % of the session, late after ${human(p.late_after_seconds ?? 300)}`);
    $("meeting-line").textContent = bits.join(" · ");
  }

  function renderSessions() {
    renderMeetingLine();
    const box = $("sessions");
    const tabs = [];
    if (state.instances.length > 1 || state.instances.length === 0) {
      tabs.push(el("button", {
        class: "session-tab", role: "tab", type: "button", "aria-selected": state.instance === null ? "true" : "false",
        dataset: { instance: "" }, onclick: () => { state.instance = null; state.chosen = true; refresh(false); },
      }, "All sessions"));
    }
    state.instances.forEach((inst, i) => {
      const label = `${dateLabel(inst.started_at)} ${hm(inst.started_at)}–${inst.ended_at ? hm(inst.ended_at) : "now"}`;
      tabs.push(el("button", {
        class: "session-tab", role: "tab", type: "button", title: `Session ${i + 1}: ${inst.state}`,
        "aria-selected": state.instance === inst.uuid ? "true" : "false",
        dataset: { instance: inst.uuid }, onclick: () => { state.instance = inst.uuid; state.chosen = true; refresh(false); },
      }, el("span", { class: `dot ${inst.state}` }), label));
    });
    box.replaceChildren(...tabs);
  }

  function renderStatePill(att) {
    const pill = $("state-pill");
    pill.hidden = false;
    pill.className = `state-pill state-${att.state}`;
    pill.textContent = STATE_LABEL[att.state] || att.state;
    pill.title = STATE_HELP[att.state] || "";
    pill.dataset.state = att.state;
  }

  function renderNoMeeting() {
    $("meeting-line").textContent = "No Zoom meeting is linked to this course yet.";
    const box = $("empty");
    box.hidden = false;
    box.replaceChildren(
      el("h2", { text: "No meeting linked yet" }),
      el("p", { text: "Link an existing Zoom meeting to this course through attend's API, then register the class:" }),
      el("pre", { text: `curl -X POST ${location.origin}${ATTEND}/meetings \\\n  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\\n  -d '{"group":"${CONFIG.course_id}","kind":"meeting","zoom_meeting_id":85393847045}'` }),
    );
  }

  function renderWaiting() {
    for (const id of ["summary", "timeline-card", "roster-card", "unmatched-card"]) $(id).hidden = true;
    $("state-pill").hidden = true;
    const box = $("empty");
    box.hidden = false;
    box.replaceChildren(
      el("h2", { text: "No session has started yet" }),
      el("p", { text: CONFIG.demo
        ? "Press “Play a simulated class”: the Zoom simulator plays a realistic class against this app and the roster fills in live."
        : "Once the meeting starts, Zoom's webhooks arrive here and the roster fills in live." }),
    );
  }

  function renderAll() {
    const att = state.attendance;
    $("empty").hidden = true;
    // Which view the numbers below belong to ("all" or an instance uuid): lets tests and
    // scripts wait for a view to be drawn.
    document.body.dataset.view = att.instance || "all";
    renderStatePill(att);
    renderSummary(att);
    renderTimeline(att);
    renderRoster(att);
    renderUnmatched(att);
    renderShared(att);
  }

  // ---------------------------------------------------------------- shared links

  /** Warns when one student's personal link was used by two people at the same time. */
  async function renderShared(att) {
    const box = $("shared");
    const list = att.possible_shared_links || [];
    if (!list.length) { box.hidden = true; return; }
    if (!state.registrantUsers || state.registrantUsers.meeting !== state.meetingId) {
      try {
        const regs = await api(`${ATTEND}/meetings/${encodeURIComponent(state.meetingId)}/registrations`);
        state.registrantUsers = { meeting: state.meetingId, map: new Map((regs.registrations || [])
          .filter((r) => r.registrant_id).map((r) => [r.registrant_id, r.user_id])) };
      } catch (_) {
        state.registrantUsers = { meeting: state.meetingId, map: new Map() };
      }
    }
    const who = list.map((s) => {
      const user = state.registrantUsers.map.get(s.registrant_id);
      return `${user ? nameOf(user) : "registrant " + s.registrant_id} (${(s.connections || []).length} connections at once)`;
    });
    box.replaceChildren(el("b", { text: "Possibly shared personal links: " }), who.join(", "),
      ". Different people used the same link at the same time; their time counts for the link's owner.");
    box.hidden = false;
  }

  // ---------------------------------------------------------------- summary

  function renderSummary(att) {
    const s = att.summary || {};
    const box = $("summary");
    box.hidden = false;
    const cards = [el("div", { class: "stat registered", dataset: { stat: "registered" } },
      el("div", { class: "n", text: s.registered ?? att.roster.length }), el("div", { class: "l", text: "Registered" }))];
    for (const key of ["present", "late", "left_early", "partial", "absent", "unmatched"]) {
      cards.push(el("button", {
        class: `stat ${key}`, type: "button", "aria-pressed": state.filter === key ? "true" : "false",
        dataset: { stat: key }, title: key === "unmatched" ? "Show the unmatched participants" : `Show only ${STATUS_LABEL[key].toLowerCase()}`,
        onclick: () => {
          if (key === "unmatched") { $("unmatched-card").scrollIntoView({ behavior: "smooth" }); return; }
          state.filter = state.filter === key ? null : key;
          renderAll();
        },
      }, el("div", { class: "n", text: s[key] ?? 0 }), el("div", { class: "l", text: STATUS_LABEL[key] })));
    }
    box.replaceChildren(...cards);
  }

  // ---------------------------------------------------------------- timeline

  function windowOf(att) {
    const start = ms(att.window && att.window.start);
    let end = ms(att.window && att.window.end);
    if (isNaN(end) || att.state === "live") end = Math.max(isNaN(end) ? 0 : end, Date.now());
    return { start, end: Math.max(end, start + 60000) };
  }

  function tickStep(spanMs) {
    const minutes = spanMs / 60000;
    for (const step of [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440]) {
      if (minutes / step <= 9) return step * 60000;
    }
    return 2880 * 60000;
  }

  function sortedRoster(att) {
    const rows = att.roster.slice();
    const { key, asc } = state.sort;
    const val = (r) => {
      switch (key) {
        case "status": return STATUS_ORDER[r.status] ?? 9;
        case "attended": return r.attended_seconds || 0;
        case "ratio": return r.attendance_ratio || 0;
        case "first_join": return r.first_join ? ms(r.first_join) : Infinity;
        case "last_leave": return r.last_leave ? ms(r.last_leave) : -Infinity;
        case "joins": return r.joins || 0;
        case "matched_by": return r.matched_by || "~";
        default: return nameOf(r.user_id).toLocaleLowerCase();
      }
    };
    rows.sort((a, b) => {
      const x = val(a), y = val(b);
      const c = x < y ? -1 : x > y ? 1 : nameOf(a.user_id).localeCompare(nameOf(b.user_id));
      return asc ? c : -c;
    });
    return rows;
  }

  function showTip(ev, html) {
    const tip = $("tooltip");
    tip.replaceChildren(...html);
    tip.hidden = false;
    const x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    tip.style.left = `${x}px`;
    tip.style.top = `${ev.clientY + 16}px`;
  }
  function hideTip() { $("tooltip").hidden = true; }

  function renderTimeline(att) {
    const card = $("timeline-card");
    card.hidden = false;
    const box = $("timeline");
    const win = windowOf(att);
    const span = win.end - win.start;
    const pct = (t) => Math.min(100, Math.max(0, ((t - win.start) / span) * 100));
    const m = currentMeeting();
    const policy = (m && m.policy) || {};
    const nodes = [];

    // Session bands (several sessions in the aggregate view) and the gaps between them.
    const sessions = state.instance
      ? state.instances.filter((i) => i.uuid === state.instance)
      : state.instances;
    const bands = sessions.map((i) => ({ s: ms(i.started_at), e: i.ended_at ? ms(i.ended_at) : win.end }));

    const background = () => {
      const parts = [];
      if (bands.length > 1) {
        bands.forEach((b, idx) => {
          parts.push(el("div", { class: "tl-session", style: `left:${pct(b.s)}%;width:${pct(b.e) - pct(b.s)}%` }));
          const next = bands[idx + 1];
          if (next && next.s > b.e) parts.push(el("div", { class: "tl-gap", style: `left:${pct(b.e)}%;width:${pct(next.s) - pct(b.e)}%` }));
        });
      }
      for (const t of ticks) parts.push(el("div", { class: "tl-grid", style: `left:${pct(t)}%` }));
      if (policy.late_after_seconds !== undefined) {
        parts.push(el("div", { class: "tl-threshold", style: `left:${pct(win.start + policy.late_after_seconds * 1000)}%`, title: "late after this line" }));
      }
      if (policy.left_early_before_end_seconds !== undefined && att.state !== "live") {
        parts.push(el("div", { class: "tl-threshold", style: `left:${pct(win.end - policy.left_early_before_end_seconds * 1000)}%`, title: "left early before this line" }));
      }
      if (att.state === "live") parts.push(el("div", { class: "tl-now", style: "left:100%", title: "now" }));
      return parts;
    };

    // Axis: window start and end labelled in bold, round ticks in between.
    const step = tickStep(span);
    const ticks = [];
    for (let t = Math.ceil(win.start / step) * step; t < win.end; t += step) {
      if (t - win.start > step * 0.35 && win.end - t > step * 0.35) ticks.push(t);
    }
    const axisTrack = el("div", { class: "tl-track" },
      el("span", { class: "tl-tick window edge-start", style: "left:0%", dataset: { t: new Date(win.start).toISOString() } }, hm(new Date(win.start).toISOString())),
      ...ticks.map((t) => el("span", { class: "tl-tick", style: `left:${pct(t)}%` }, hm(new Date(t).toISOString()))),
      el("span", { class: "tl-tick window edge-end", style: "left:100%", dataset: { t: new Date(win.end).toISOString() } }, att.state === "live" ? "now" : hm(new Date(win.end).toISOString())),
    );
    nodes.push(el("div", { class: "tl-axis" }, el("div", { class: "muted small" }, `${dateLabel(att.window.start)}`), axisTrack));

    const bar = (iv, who, extraClass) => {
      const j = ms(iv.join), l = iv.leave ? ms(iv.leave) : win.end;
      const left = pct(j), right = pct(l);
      if (right <= left && l < win.start) return null;
      const cls = `tl-bar src-${iv.source || "webhook"}${iv.leave ? "" : " open"}${extraClass ? " " + extraClass : ""}`;
      const node = el("div", {
        class: cls, style: `left:${left}%;width:${Math.max(right - left, 0)}%`,
        dataset: { join: iv.join, leave: iv.leave || "", source: iv.source || "webhook", left: left.toFixed(3), width: (right - left).toFixed(3) },
      });
      node.addEventListener("mousemove", (ev) => showTip(ev, [
        el("b", { text: who }), el("br"),
        `${hms(iv.join)} → ${iv.leave ? hms(iv.leave) : "still in"} (${human((l - j) / 1000)})`, el("br"),
        `from ${SOURCE_LABEL[iv.source] || iv.source}`,
      ]));
      node.addEventListener("mouseleave", hideTip);
      return node;
    };

    const rows = sortedRoster(att);
    let seenAnyone = false;
    for (const r of rows) {
      const who = nameOf(r.user_id);
      const dim = state.filter && r.status !== state.filter;
      const bars = (r.intervals || []).map((iv) => bar(iv, who)).filter(Boolean);
      if (bars.length) seenAnyone = true;
      nodes.push(el("div", { class: `tl-row${dim ? " dim" : ""}`, dataset: { userId: r.user_id, status: r.status } },
        el("div", { class: "tl-name", title: `${who} — ${STATUS_LABEL[r.status]}` },
          el("span", { class: `sd ${r.status}` }), el("span", { class: "nm", text: who })),
        el("div", { class: "tl-track" }, ...background(), ...bars,
          bars.length ? null : el("span", { class: "tl-none", text: state.instance ? "not seen in this session" : "not seen in any session" }))));
    }
    const unmatched = att.unmatched || [];
    if (unmatched.length) {
      nodes.push(el("div", { class: "tl-section", text: "Not matched to a student" }));
      for (const u of unmatched) {
        const who = u.display_name || u.email || u.participant_key;
        nodes.push(el("div", { class: `tl-row${state.filter ? " dim" : ""}`, dataset: { participantKey: u.participant_key, status: "unmatched" } },
          el("div", { class: "tl-name", title: who }, el("span", { class: "sd unmatched" }), el("span", { class: "nm", text: who })),
          el("div", { class: "tl-track" }, ...background(), ...(u.intervals || []).map((iv) => bar(iv, who, "unmatched")).filter(Boolean))));
      }
    }
    box.replaceChildren(...nodes);
    const w = `${hm(att.window.start)}–${att.state === "live" ? "now" : hm(att.window.end)}`;
    $("timeline-caption").textContent = seenAnyone
      ? `${state.instance ? "Session" : "All sessions"} ${w}. One bar per stretch of presence; hover a bar for exact times.`
      : `${state.instance ? "Session" : "All sessions"} ${w}. Nobody has joined yet.`;
  }

  // ---------------------------------------------------------------- roster

  function renderRoster(att) {
    $("roster-card").hidden = false;
    const win = windowOf(att);
    const m = currentMeeting();
    const policy = (m && m.policy) || {};
    const liveIds = liveUserIds();
    const rows = sortedRoster(att).filter((r) => !state.filter || r.status === state.filter);
    const body = rows.map((r) => {
      const marks = [];
      if (r.late_seconds && r.late_seconds > (policy.late_after_seconds ?? 300)) {
        marks.push(el("span", { class: "mark late", title: `first joined ${human(r.late_seconds)} after the start` }, `+${human(r.late_seconds)} late`));
      }
      if (r.last_leave && att.state !== "live") {
        const early = (win.end - ms(r.last_leave)) / 1000;
        if (early > (policy.left_early_before_end_seconds ?? 300)) {
          marks.push(el("span", { class: "mark left_early", title: `left ${human(early)} before the end` }, `left ${human(early)} early`));
        }
      }
      if (liveIds.has(r.user_id)) marks.push(el("span", { class: "mark", title: "in the meeting right now" }, "● in meeting"));
      const ratio = r.attendance_ratio || 0;
      const ratioClass = ratio >= (policy.required_ratio ?? 0.5) ? "ok" : "low";
      return el("tr", { dataset: { userId: r.user_id, status: r.status } },
        el("td", { class: "who-cell" }, el("span", { class: "nm", text: nameOf(r.user_id) }), el("span", { class: "id", text: r.user_id })),
        el("td", {}, el("span", { class: `badge ${r.status}`, dataset: { status: r.status } }, STATUS_LABEL[r.status] || r.status), ...marks),
        el("td", { class: "num", title: `${r.attended_seconds || 0} seconds`, dataset: { seconds: r.attended_seconds || 0 } }, hmm(r.attended_seconds)),
        el("td", {}, el("span", { class: `ratio ${ratioClass}` },
          el("span", { class: "bar" }, el("i", { style: `width:${Math.min(100, ratio * 100).toFixed(1)}%` })),
          `${Math.round(ratio * 100)} %`)),
        el("td", { class: "time", title: r.first_join || "" }, r.first_join ? hm(r.first_join) : "—"),
        el("td", { class: "time", title: r.last_leave || "" }, r.last_leave ? hm(r.last_leave) : "—"),
        el("td", { class: "num" }, r.joins ?? 0),
        el("td", {}, r.matched_by ? el("span", { class: `matched ${r.matched_by}`, dataset: { matchedBy: r.matched_by } }, MATCHED_LABEL[r.matched_by] || r.matched_by) : el("span", { class: "matched", text: "—" })));
    });
    $("roster").querySelector("tbody").replaceChildren(...body);
    for (const th of $("roster").querySelectorAll("th[data-sort]")) {
      th.classList.toggle("sorted", th.dataset.sort === state.sort.key);
      th.classList.toggle("asc", th.dataset.sort === state.sort.key && state.sort.asc);
      th.onclick = () => {
        const key = th.dataset.sort;
        state.sort = { key, asc: state.sort.key === key ? !state.sort.asc : key === "name" || key === "status" };
        renderAll();
      };
    }
    const filters = $("filters");
    filters.replaceChildren(state.filter
      ? el("button", { class: "btn btn-small", type: "button", onclick: () => { state.filter = null; renderAll(); } }, `Showing ${STATUS_LABEL[state.filter].toLowerCase()} only · show all`)
      : el("span", { class: "muted small", text: `${rows.length} students · click a column to sort` }));
  }

  function liveUserIds() {
    const ids = new Set();
    const live = state.live;
    if (!live) return ids;
    const list = live.participants || live.present || live.roster || [];
    for (const p of list) if (p && p.user_id) ids.add(p.user_id);
    return ids;
  }

  // ---------------------------------------------------------------- unmatched

  function renderUnmatched(att) {
    const list = att.unmatched || [];
    const card = $("unmatched-card");
    card.hidden = false;
    const box = $("unmatched");
    if (!list.length) {
      box.replaceChildren(el("div", { class: "um-none", text: "Everyone Zoom saw was matched to a student." }));
      return;
    }
    const students = state.students.slice().sort((a, b) => a.name.localeCompare(b.name));
    box.replaceChildren(...list.map((u) => {
      const select = el("select", { "aria-label": `Student to link ${u.display_name || u.participant_key} to` },
        el("option", { value: "" }, "Link to student…"),
        ...students.map((s) => el("option", { value: s.id }, s.name)));
      const button = el("button", { class: "btn btn-small btn-primary", type: "button", disabled: true }, "Link");
      select.onchange = () => { button.disabled = !select.value; };
      button.onclick = async () => {
        if (!select.value) return;
        button.disabled = true;
        try {
          await api(`${ATTEND}/meetings/${encodeURIComponent(state.meetingId)}/unmatched/${encodeURIComponent(u.participant_key)}/link`, {
            method: "POST", json: { user_id: select.value },
          });
          notice(`Linked “${u.display_name || u.participant_key}” to ${nameOf(select.value)}. The roster is updated.`);
          await refresh(false);
        } catch (e) {
          notice(`Could not link: ${e.message}`, "error");
          button.disabled = false;
        }
      };
      return el("div", { class: "um-row", dataset: { participantKey: u.participant_key } },
        el("div", {}, el("div", { class: "um-name", text: u.display_name || "(no name)" }), el("div", { class: "um-email", text: u.email || "no email given" })),
        el("div", { class: "num", title: `${u.attended_seconds || 0} seconds` }, hmm(u.attended_seconds)),
        el("div", { class: "muted small" }, (u.intervals || []).map((iv) => `${hm(iv.join)}–${iv.leave ? hm(iv.leave) : "now"}`).join(", ")),
        el("div", { class: "um-link" }, select, button));
    }));
  }

  // ---------------------------------------------------------------- actions

  $("csv").addEventListener("click", async () => {
    if (!state.meetingId) return;
    try {
      const q = state.instance ? `?instance=${encodeURIComponent(state.instance)}` : "";
      const res = await api(`${ATTEND}/meetings/${encodeURIComponent(state.meetingId)}/attendance.csv${q}`, { raw: true, headers: { Accept: "text/csv" } });
      const blob = await res.blob();
      const a = el("a", { href: URL.createObjectURL(blob), download: `attendance-${CONFIG.course_id}-${state.instance ? "session" : "all"}.csv` });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    } catch (e) {
      notice(`Could not download the CSV: ${e.message}`, "error");
    }
  });

  $("play-class").addEventListener("click", async () => {
    const btn = $("play-class");
    btn.disabled = true;
    try {
      const res = await api(`${LMS}/dev/play-class?course=${encodeURIComponent(CONFIG.course_id)}`, { method: "POST" });
      notice(res && res.message ? res.message : "The simulator is playing a class. Watch the roster fill in.");
      if (state.meetings.length === 0) { await start(state.token); return; }
      state.instance = null;
      state.chosen = false;
      setTimeout(() => refresh(true), 800);
    } catch (e) {
      notice(`Could not start the simulated class: ${e.message}`, "error");
    } finally {
      setTimeout(() => { btn.disabled = false; }, 3000);
    }
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.meetingId && !state.loading) refresh(false);
  });

  // ---------------------------------------------------------------- boot

  obtainToken().then((token) => {
    if (token) start(token);
    else {
      $("meeting-line").textContent = "";
      askForToken(null);
    }
  });
})();
