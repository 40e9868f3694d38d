//! Lenient deserializers for the shapes Zoom actually sends: ids as string *or* number, empty
//! strings where a value is absent, timestamps with or without an offset.
//!
//! Every helper is meant for `#[serde(default, deserialize_with = "…")]` on an `Option` field,
//! so a missing field and `null` both give `None`.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::model::ZoomMeetingId;

/// A string, a number or a bool as text; `""` (after trimming), `null` and anything else
/// (objects, arrays) give `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_string(Option::<Value>::deserialize(d)?))
}

/// [`value_to_string`] of a borrowed value: the text is borrowed for strings and only numbers
/// and bools are formatted, so reading a field (for the dedupe key, say) copies nothing.
pub(crate) fn value_text(value: Option<&Value>) -> Option<Cow<'_, str>> {
    match value? {
        Value::String(s) => non_blank(s),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A string's text as [`value_text`] gives it: borrowed, `None` if blank (the empty strings
/// Zoom sends for absent values).
pub(crate) fn non_blank(s: &str) -> Option<Cow<'_, str>> {
    (!s.trim().is_empty()).then_some(Cow::Borrowed(s))
}

/// [`value_text`] of an owned value: a string's text is moved out, not copied.
pub(crate) fn value_to_string(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) => (!s.trim().is_empty()).then_some(s),
        other => value_text(Some(&other)).map(Cow::into_owned),
    }
}

/// A required, non-empty id sent as a string or a number (REST responses).
pub(crate) fn string_required<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| serde::de::Error::custom("expected a non-empty id"))
}

/// An integer sent as a number or a numeric string. Anything else is `None`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(value_to_i64(
        &Option::<Value>::deserialize(d)?.unwrap_or(Value::Null),
    ))
}

pub(crate) fn value_to_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A Zoom meeting number sent as a number or a numeric string. Empty strings, placeholders
/// such as `"{MEETING_ID}"` and anything non-numeric give `None` rather than an error.
pub(crate) fn opt_meeting_id<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ZoomMeetingId>, D::Error> {
    Ok(opt_i64(d)?.map(ZoomMeetingId))
}

/// A required meeting number (REST responses); a missing or unreadable value is an error.
pub(crate) fn meeting_id<'de, D: Deserializer<'de>>(d: D) -> Result<ZoomMeetingId, D::Error> {
    let value = Value::deserialize(d)?;
    value_to_i64(&value)
        .map(ZoomMeetingId)
        .ok_or_else(|| serde::de::Error::custom(format!("not a Zoom meeting id: {value}")))
}

/// A timestamp: RFC 3339 (`2021-07-13T21:44:51Z`, with or without fraction/offset) or a naive
/// `YYYY-MM-DDTHH:MM:SS` taken as UTC. Empty or unreadable values give `None`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(opt_string(d)?.as_deref().and_then(parse_time))
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|n| n.and_utc())
}

/// A list that may be missing or `null` (both give an empty list).
pub(crate) fn vec_or_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A bool that may also come as `0`/`1` or `"true"`/`"false"`; anything else is `None`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => n.as_i64().map(|n| n != 0),
        Some(Value::String(s)) => match s.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "opt_meeting_id")]
        id: Option<ZoomMeetingId>,
        #[serde(default, deserialize_with = "opt_time")]
        t: Option<DateTime<Utc>>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn strings_numbers_and_empties() {
        assert_eq!(probe(r#"{"s":""}"#).s, None);
        assert_eq!(probe(r#"{"s":"  "}"#).s, None);
        assert_eq!(probe(r#"{"s":null}"#).s, None);
        assert_eq!(probe(r#"{}"#).s, None);
        assert_eq!(probe(r#"{"s":"x"}"#).s.as_deref(), Some("x"));
        assert_eq!(probe(r#"{"s":16778240}"#).s.as_deref(), Some("16778240"));
    }

    #[test]
    fn meeting_ids_as_string_or_number() {
        assert_eq!(
            probe(r#"{"id":"85393847045"}"#).id,
            Some(ZoomMeetingId(85393847045))
        );
        assert_eq!(
            probe(r#"{"id":85393847045}"#).id,
            Some(ZoomMeetingId(85393847045))
        );
        assert_eq!(probe(r#"{"id":"{MEETING_ID}"}"#).id, None);
        assert_eq!(probe(r#"{"id":""}"#).id, None);
    }

    #[test]
    fn times() {
        let expected = Utc.with_ymd_and_hms(2021, 7, 13, 21, 44, 51).unwrap();
        assert_eq!(probe(r#"{"t":"2021-07-13T21:44:51Z"}"#).t, Some(expected));
        assert_eq!(
            probe(r#"{"t":"2021-07-13T23:44:51+02:00"}"#).t,
            Some(expected)
        );
        assert_eq!(probe(r#"{"t":"2021-07-13T21:44:51"}"#).t, Some(expected));
        assert_eq!(probe(r#"{"t":""}"#).t, None);
        assert_eq!(probe(r#"{"t":"yesterday"}"#).t, None);
    }
}
