// Type-checked by .ci/contract-checks against the TypeScript types that openapi-typescript
// generates from the served OpenAPI document (./attend-api.d.ts). If a path, a field or a
// response of the API changes shape, this file stops compiling under `tsc --strict`.
import type { components, paths } from "./attend-api";

type Meeting = components["schemas"]["Meeting"];
type Attendance = components["schemas"]["Attendance"];
type RosterEntry = components["schemas"]["RosterEntry"];
type ErrorBody = components["schemas"]["ErrorBody"];
type Registration = components["schemas"]["Registration"];

type AttendanceOk =
  paths["/meetings/{id}/attendance"]["get"]["responses"][200]["content"]["application/json"];
type AttendanceQuery = NonNullable<paths["/meetings/{id}/attendance"]["get"]["parameters"]["query"]>;
type LinkBody =
  paths["/meetings"]["post"]["requestBody"]["content"]["application/json"];
type LinkCreated =
  paths["/meetings"]["post"]["responses"][201]["content"]["application/json"];
type RegisterAccepted =
  paths["/meetings/{id}/registrations"]["post"]["responses"][202]["content"]["application/json"];
type JoinLinkOk =
  paths["/meetings/{id}/join-link"]["get"]["responses"][200]["content"]["application/json"];
type HistoryOk =
  paths["/users/{user_id}/attendance"]["get"]["responses"][200]["content"]["application/json"];
type NotFound = paths["/meetings/{id}"]["get"]["responses"][404];

const link: LinkBody = {
  group: "course-101",
  kind: "meeting",
  zoom_meeting_id: 85393847045,
  restrict_to_registered: true,
  policy: { required_ratio: 0.75 },
};

const create: LinkBody = {
  group: "course-101",
  kind: "webinar",
  create: {
    topic: "Week 3",
    start_time: "2026-03-02T09:00:00Z",
    duration_minutes: 60,
    host: "teacher@school.example",
  },
};

function describe(m: LinkCreated): string {
  const meeting: Meeting = m;
  const kind: "meeting" | "webinar" = meeting.kind;
  return `${meeting.id} ${meeting.zoom_meeting_id} ${kind} ${meeting.group} ${meeting.policy.required_ratio}`;
}

function presentUsers(a: AttendanceOk): string[] {
  const attendance: Attendance = a;
  const rows: RosterEntry[] = attendance.roster;
  const seconds: number = rows.reduce((sum, r) => sum + r.attended_seconds, 0);
  const state: "live" | "provisional" | "final" = attendance.state;
  const unmatched: number = attendance.summary.unmatched + attendance.unmatched.length;
  void seconds;
  void state;
  void unmatched;
  return rows
    .filter((r) => r.status === "present" || r.status === "late")
    .map((r) => `${r.user_id}:${r.first_join ?? "never"}:${r.intervals.length}`);
}

function pending(r: RegisterAccepted): Registration[] {
  return r.registrations.filter((x) => x.status === "pending");
}

function linkUrl(l: JoinLinkOk): [string, string] {
  return [l.url, l.expires_at];
}

function history(h: HistoryOk): number {
  return h.records.map((r) => r.attendance_ratio).reduce((a, b) => a + b, 0);
}

function errorCode(e: ErrorBody): string {
  return `${e.error.code}: ${e.error.message}`;
}

const q: AttendanceQuery = { instance: "4444AAAiAAAAAiAiAiiAii==" };
const nf: NotFound | undefined = undefined;

export { link, create, describe, presentUsers, pending, linkUrl, history, errorCode, q, nf };
