//! The shared state of the `/lms` routes.

use std::sync::Arc;

use attend_core::model::{GroupKey, UserId};
use attend_core::service::Attend;
use attend_diesel::DieselStore;

use crate::auth::Tokens;
use crate::demo::Demo;
use crate::error::LmsError;

/// What the LMS's handlers share: the database (attend's pool), the token issuer, the attend
/// service, and in demo mode the demo facilities.
#[derive(Clone, Debug)]
pub struct Lms {
    /// attend's store; the LMS runs its own queries on the same pool.
    pub store: DieselStore,
    /// Mints and verifies bearer tokens (same secret as attend's API).
    pub tokens: Tokens,
    /// The public base URL (no trailing slash).
    pub public_url: String,
    /// The attend service, called in-process (the LMS is attend's host).
    pub attend: Attend,
    /// Demo-mode facilities (`None` in real mode).
    pub demo: Option<Arc<Demo>>,
}

impl Lms {
    /// Registers `user_ids` at Zoom for every attend meeting linked to the course (a course
    /// is attend's group), so that newly enrolled students get their personal links at once.
    /// Returns, per meeting, `{"meeting_id", "registered", "pending", "failed"}` for these
    /// users. Registration is idempotent: users already registered cost no Zoom call.
    ///
    /// # Errors
    /// attend's errors, forwarded (e.g. storage unavailable).
    pub async fn register_for_course_meetings(
        &self,
        course_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<serde_json::Value>, LmsError> {
        let ids: Vec<UserId> = user_ids.iter().map(|u| UserId::from(u.as_str())).collect();
        let mut out = Vec::new();
        for meeting in self
            .attend
            .list_meetings(Some(&GroupKey::from(course_id)))
            .await?
        {
            let outcome = self.attend.register_users(&meeting.id, &ids).await?;
            let count = |status: attend_core::model::RegistrationStatus| {
                outcome
                    .registrations
                    .iter()
                    .filter(|r| r.status == status)
                    .count()
            };
            use attend_core::model::RegistrationStatus as S;
            out.push(serde_json::json!({
                "meeting_id": meeting.id,
                "registered": count(S::Registered),
                "pending": count(S::Pending),
                "failed": count(S::Failed),
            }));
        }
        Ok(out)
    }
}
