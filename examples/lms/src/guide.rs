//! The guide printed when the app starts: what to open, which tokens to use, and how to play
//! a simulated class.

use crate::config::Secret;
use crate::demo::{DEFAULT_PACE_SECONDS, DemoInfo};
use crate::page::percent_path;

/// What the guide needs to know.
#[derive(Debug)]
pub struct GuideInput<'a> {
    /// Where this process answers (`http://127.0.0.1:PORT`).
    pub local_url: &'a str,
    /// The public base URL.
    pub public_url: &'a str,
    /// The database URL (SQLite paths are shown; PostgreSQL URLs are reduced to their scheme).
    pub database_url: &'a str,
    /// The demo set-up, if any.
    pub demo: Option<&'a DemoInfo>,
    /// Whether the app runs in demo mode.
    pub demo_mode: bool,
    /// The JWT secret, when demo mode generated it.
    pub generated_jwt_secret: Option<&'a Secret>,
    /// The webhook secret, when demo mode generated it.
    pub generated_webhook_secret: Option<&'a Secret>,
    /// Whether `GET /metrics` is served.
    pub metrics: bool,
}

fn shown_database(url: &str) -> String {
    if url.starts_with("postgres") {
        "PostgreSQL (ATTEND_DATABASE_URL)".to_owned()
    } else {
        url.to_owned()
    }
}

/// Renders the guide as plain text.
pub fn render(g: &GuideInput<'_>) -> String {
    let base = g.local_url;
    let mut s = String::new();
    let line = "─".repeat(78);
    s.push_str(&format!("\n{line}\n"));
    if g.demo_mode {
        s.push_str(
            " attend example LMS · DEMO MODE — Zoom is simulated inside this process;\n \
             no Zoom account or network needed.\n",
        );
    } else {
        s.push_str(" attend example LMS · connected to Zoom\n");
    }
    s.push_str(&format!("{line}\n\n"));

    match g.demo {
        Some(d) => {
            let course = percent_path(&d.course_id);
            s.push_str(" Open in your browser\n");
            s.push_str(&format!(
                "   Course attendance page  {base}/lms/courses/{course}/attendance\n"
            ));
            s.push_str(&format!("   All courses             {base}/\n"));
            s.push_str(&format!(
                "   API reference           {base}/attend/docs/   (OpenAPI: {base}/attend/openapi.json)\n"
            ));
            if g.metrics {
                s.push_str(&format!("   Metrics (Prometheus)    {base}/metrics\n"));
            }
            s.push('\n');
            s.push_str(" Play a simulated class\n");
            s.push_str(&format!(
                "   Press \"Play a simulated class\" on the course page, or run\n     \
                 curl -X POST {base}/lms/dev/play-class\n"
            ));
            s.push_str(&format!(
                "   The simulator replays a realistic 60-minute class in about {DEFAULT_PACE_SECONDS} s against this\n   \
                 app's webhook URL: late joiners, a student on two devices, a dropped connection,\n   \
                 the waiting room, breakout rooms, early leavers, two guests and a host restart.\n   \
                 The page shows it live; a few seconds after the end the roster is final.\n   \
                 (?pace=0 plays it at once.)\n\n"
            ));
            s.push_str(&format!(
                " Bearer tokens (valid 12 h; a fresh one: curl '{base}/lms/dev/token?user=ID')\n"
            ));
            s.push_str(&format!(
                "   instructor {} (course {}):\n     export TOKEN={}\n",
                d.instructor_name, d.course_id, d.instructor_token
            ));
            if !d.student_token.is_empty() {
                s.push_str(&format!(
                    "   student {}:\n     export STUDENT_TOKEN={}\n",
                    d.student_name, d.student_token
                ));
            }
            s.push_str("\n Try the API\n");
            s.push_str(&format!(
                "   curl -H \"Authorization: Bearer $TOKEN\" '{base}/attend/meetings?group={course}'\n"
            ));
            s.push_str(&format!(
                "   curl -H \"Authorization: Bearer $TOKEN\" {base}/attend/meetings/{}/attendance\n",
                percent_path(&d.meeting_id)
            ));
            s.push_str(&format!(
                "   curl -H \"Authorization: Bearer $TOKEN\" {base}/attend/meetings/{}/attendance.csv\n",
                percent_path(&d.meeting_id)
            ));
            s.push_str(&format!(
                "   curl -H \"Authorization: Bearer $STUDENT_TOKEN\" {base}/attend/meetings/{}/join-link\n",
                percent_path(&d.meeting_id)
            ));
            if !d.student_join_link.is_empty() {
                s.push_str(&format!(
                    "\n {}'s personal join link (opens the simulated Zoom join page):\n   {}\n",
                    d.student_name, d.student_join_link
                ));
            }
            s.push_str(&format!(
                "\n Demo data: course {} with {} students registered at the simulated Zoom\n \
                 (meeting {}).\n",
                d.course_id, d.registered, d.zoom_meeting_id
            ));
        }
        None => {
            s.push_str(&format!(
                " Listening on {base} (public URL {})\n",
                g.public_url
            ));
            let local = g.public_url.contains("://127.") || g.public_url.contains("://localhost");
            if !g.demo_mode && local {
                s.push_str(
                    " ! Zoom cannot reach this address: set ATTEND_PUBLIC_URL to the app's public\n   \
                     HTTPS URL, or Zoom's webhooks and the students' join links will not work.\n",
                );
            }
            s.push_str(&format!(
                "   All courses        {base}/\n   API reference      {base}/attend/docs/\n   \
                 OpenAPI            {base}/attend/openapi.json\n   \
                 Zoom webhook URL   {}/attend/webhooks/zoom\n",
                g.public_url
            ));
            if g.metrics {
                s.push_str(&format!("   Metrics            {base}/metrics\n"));
            }
            s.push_str(
                "\n Create users, courses and enrollments with POST /lms/users, /lms/courses and\n \
                 /lms/courses/{id}/enrollments (admin bearer token); link a Zoom meeting with\n \
                 POST /attend/meetings. See README.md, \"Using real Zoom\".\n",
            );
        }
    }

    s.push_str(&format!(
        "\n Database: {}\n",
        shown_database(g.database_url)
    ));
    if g.demo_mode {
        s.push_str(" Simulated Zoom: REST at /zoom/v2, join pages at /zoom/w/… (same port)\n");
    }
    if let Some(secret) = g.generated_jwt_secret {
        s.push_str(&format!(
            " ATTEND_JWT_SECRET={} (generated; kept in the database for the next run)\n",
            secret.expose()
        ));
    }
    if g.generated_webhook_secret.is_some() {
        s.push_str(" ATTEND_ZOOM_WEBHOOK_SECRET: generated and shared with the simulator\n");
    }
    s.push_str(" Stop with Ctrl-C. Real Zoom: see \"Using real Zoom\" in README.md.\n");
    s.push_str(&format!("{line}\n"));
    s
}
