//! The course attendance page and the landing page: server-rendered HTML shells with the
//! page's JavaScript and CSS compiled into the binary (`include_str!`), so the app serves
//! everything itself — no CDN, no network at run time.

/// The page template (placeholders `{{COURSE_ID}}` and `{{CONFIG_JSON}}`).
const ATTENDANCE_HTML: &str = include_str!("../assets/attendance.html");
/// The page's script, served at `/lms/assets/attendance.js`.
pub const ATTENDANCE_JS: &str = include_str!("../assets/attendance.js");
/// The page's style sheet, served at `/lms/assets/attendance.css`.
pub const ATTENDANCE_CSS: &str = include_str!("../assets/attendance.css");

/// How often the page polls while a session is live, in milliseconds.
pub const POLL_LIVE_MS: u64 = 3_000;
/// How often it polls while the roster is provisional (waiting for Zoom's report).
pub const POLL_PROVISIONAL_MS: u64 = 8_000;
/// How often it polls otherwise (to notice a new session starting).
pub const POLL_IDLE_MS: u64 = 15_000;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside `<script type="application/json">`: `<`, `>` and `&` are written
/// as `\u003c`-style escapes, so no value can close the script element.
fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Renders the attendance page of `course_id`. In demo mode `dev_user` is the instructor
/// whose token the page fetches from `/lms/dev/token` when it was not given one.
pub fn attendance_page(course_id: &str, demo: bool, dev_user: Option<&str>) -> String {
    let config = serde_json::json!({
        "course_id": course_id,
        "demo": demo,
        "dev_user": dev_user,
        "attend_base": "/attend",
        "lms_base": "/lms",
        "poll_live_ms": POLL_LIVE_MS,
        "poll_provisional_ms": POLL_PROVISIONAL_MS,
        "poll_idle_ms": POLL_IDLE_MS,
    });
    ATTENDANCE_HTML
        .replace("{{CONFIG_JSON}}", &script_json(&config))
        .replace("{{COURSE_ID}}", &escape_html(course_id))
}

/// One course on the landing page.
#[derive(Debug, Clone)]
pub struct CourseLink {
    /// Course id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Instructor's name.
    pub instructor: String,
    /// Number of enrolled students.
    pub students: usize,
}

/// The landing page at `/`: what this app is, its courses, and where the API lives.
pub fn index_page(courses: &[CourseLink], demo: bool) -> String {
    let mut rows = String::new();
    for c in courses {
        rows.push_str(&format!(
            "<li><a href=\"/lms/courses/{id_attr}/attendance\"><b>{title}</b></a>\
             <span class=\"muted\"> · {id} · {instructor} · {n} students</span></li>",
            id_attr = escape_html(&percent_path(&c.id)),
            id = escape_html(&c.id),
            title = escape_html(&c.title),
            instructor = escape_html(&c.instructor),
            n = c.students
        ));
    }
    if rows.is_empty() {
        rows.push_str("<li class=\"muted\">No courses yet: create one with <code>POST /lms/courses</code>.</li>");
    }
    let mode = if demo {
        "<p class=\"notice\">Demo mode: Zoom is simulated inside this process. Open a course and \
         press <b>Play a simulated class</b>.</p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>attend example LMS</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/lms/assets/attendance.css\"></head>\
         <body><header class=\"topbar\"><div class=\"brand\"><span class=\"logo\">◷</span> attend \
         <span class=\"muted\">example LMS</span></div></header><main class=\"page\">\
         <h1>Courses</h1>{mode}<section class=\"card index-card\"><ul class=\"index-list\">{rows}</ul></section>\
         <section class=\"card index-card\"><h2>API</h2><ul class=\"index-list\">\
         <li><a href=\"/attend/openapi.json\">/attend/openapi.json</a><span class=\"muted\"> · the OpenAPI 3.1 document of attend's API</span></li>\
         <li><a href=\"/attend/docs/\">/attend/docs/</a><span class=\"muted\"> · try the API in the browser (paste a bearer token under Authorize)</span></li>\
         </ul></section></main></body></html>"
    )
}

/// Percent-encodes a path segment (ids may hold any characters).
pub fn percent_path(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_id_cannot_break_out_of_the_page() {
        let evil = "</script><script>alert(1)</script>";
        let page = attendance_page(evil, true, Some("\"><img>"));
        assert!(!page.contains("<script>alert(1)"), "{page}");
        assert!(!page.contains("\"><img>"));
        assert!(page.contains("&lt;/script&gt;"));
        // The config parses back to the same values.
        let start = page.find("application/json\">").unwrap() + "application/json\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let config: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(config["course_id"], evil);
        assert_eq!(config["dev_user"], "\"><img>");
    }

    #[test]
    fn assets_are_embedded() {
        assert!(ATTENDANCE_JS.contains("attendance.csv"));
        assert!(ATTENDANCE_CSS.contains(".tl-bar"));
        assert!(!ATTENDANCE_HTML.contains("http://") && !ATTENDANCE_HTML.contains("https://"));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(percent_path("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_path("course-101"), "course-101");
    }
}
