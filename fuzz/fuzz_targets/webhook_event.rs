//! Fuzz target: webhook body parsing and normalization, on arbitrary bytes.
//!
//! Seeded with Zoom's published fixtures and realistic participant, lifecycle and
//! registration events (`fuzz/seeds/webhook_event/`). Checks (see `common`): nothing panics;
//! each parse error is the documented one for the body; the dedupe key is 64 lowercase hex
//! digits after the body's whole-number `event_ts` as 16 (if it has one), equal for a parsed
//! event and its body, and unchanged by re-serialization;
//! normalized participant events carry the event's instance, one of the participant's own
//! ids as connection, one of its own times, the action its event type and leave reason call
//! for, and no blank identity hint.

#![no_main]

mod common;

use attend_core::zoom::LeaveReason;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::check_body(data);
    // The leave-reason classifier also sees any text directly.
    let _ = LeaveReason::classify(Some(&String::from_utf8_lossy(data)));
});
