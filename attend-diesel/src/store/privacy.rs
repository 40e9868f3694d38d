//! `Privacy::erase_user`.

use async_trait::async_trait;
use attend_core::model::UserId;
use attend_core::store::{ErasureSummary, Privacy, StoreResult};
use diesel::prelude::*;

use super::DieselStore;
use crate::codec::email_key;
use crate::schema::{
    attend_join_clicks as jc, attend_manual_links as ml, attend_participant_events as pe,
    attend_registrations as r, attend_report_rows as rr,
};

#[async_trait]
impl Privacy for DieselStore {
    async fn erase_user(&self, user: &UserId, emails: &[String]) -> StoreResult<ErasureSummary> {
        let user = user.0.clone();
        let emails: Vec<String> = emails
            .iter()
            .filter(|e| !e.is_empty())
            .map(|e| email_key(e))
            .collect();
        Ok(self
            .write(move |conn| {
                let mut summary = ErasureSummary::default();
                // In the meetings the user was registered for: rows carrying one of their
                // registrant ids or their registrant email.
                let registrations: Vec<(String, Option<String>, Option<String>)> = r::table
                    .filter(r::user_id.eq(&user))
                    .select((r::meeting_id, r::registrant_id, r::registrant_email_lower))
                    .load(conn)?;
                for (meeting, registrant_id, email) in &registrations {
                    if let Some(rid) = registrant_id {
                        summary.participant_events += diesel::delete(
                            pe::table
                                .filter(pe::meeting_id.eq(meeting))
                                .filter(pe::registrant_id.eq(rid)),
                        )
                        .execute(conn)?
                            as u64;
                        summary.report_rows += diesel::delete(
                            rr::table
                                .filter(rr::meeting_id.eq(meeting))
                                .filter(rr::registrant_id.eq(rid)),
                        )
                        .execute(conn)? as u64;
                    }
                    if let Some(email) = email {
                        summary.participant_events += diesel::delete(
                            pe::table
                                .filter(pe::meeting_id.eq(meeting))
                                .filter(pe::email_lower.eq(email)),
                        )
                        .execute(conn)?
                            as u64;
                        summary.report_rows += diesel::delete(
                            rr::table
                                .filter(rr::meeting_id.eq(meeting))
                                .filter(rr::email_lower.eq(email)),
                        )
                        .execute(conn)? as u64;
                    }
                }
                // In any meeting: rows whose customer key is the user id, or whose email is
                // one of the given ones.
                summary.participant_events += diesel::delete(
                    pe::table.filter(
                        pe::customer_key
                            .eq(&user)
                            .or(pe::email_lower.eq_any(&emails)),
                    ),
                )
                .execute(conn)? as u64;
                summary.report_rows += diesel::delete(
                    rr::table.filter(
                        rr::customer_key
                            .eq(&user)
                            .or(rr::email_lower.eq_any(&emails)),
                    ),
                )
                .execute(conn)? as u64;
                summary.registrations +=
                    diesel::delete(r::table.filter(r::user_id.eq(&user))).execute(conn)? as u64;
                summary.join_clicks +=
                    diesel::delete(jc::table.filter(jc::user_id.eq(&user))).execute(conn)? as u64;
                summary.manual_links +=
                    diesel::delete(ml::table.filter(ml::user_id.eq(&user))).execute(conn)? as u64;
                Ok(summary)
            })
            .await?)
    }
}
