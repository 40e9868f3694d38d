//! The fast path for the bodies the receiver sees most: reading a webhook delivery without
//! building a JSON tree of it.
//!
//! Every delivery is read twice: by the webhook endpoint, which needs its name, whether it
//! parses and its dedupe key before it can answer, and by the worker, which needs a
//! participant event's typed payload. [`parse_event`](super::parse_event) builds a
//! `serde_json::Value` tree of the whole body first (a string and a map node per field, most of
//! them never looked at) and reads everything from that tree. A [`Skim`] instead borrows the
//! envelope's fields and the payload's text straight from the bytes, deserializes the typed
//! payload from that text, and reads the few fields of the dedupe key the same way.
//!
//! It is only a fast path: the tree path stays the definition. A skim gives up (`None`) on
//! whatever it does not read exactly as the tree path would, and the caller then takes the tree
//! path: a body that is not JSON or not an envelope, a repeated key (the tree keeps the last
//! value, a derived struct refuses it), an event attend does not type (its key covers the
//! whole canonical payload), `endpoint.url_validation` (answered, never stored), or a payload
//! that does not deserialize (the tree path gives the exact error). So a skim never changes a
//! dedupe key already stored, and never turns a body the tree path refuses into one that
//! parses. Unit tests compare both paths on hand-written and generated bodies, and the webhook
//! fuzz targets compare the endpoint's key and verdict with the tree's on every input
//! (RELIABILITY.md, "Fuzzing").

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::de::non_blank;
use super::events::{
    DedupeKey, EventParseError, EventType, KEY_FIELDS, ZoomEvent, hash_key_fields, parse_event,
    typed,
};

/// A webhook body read without a tree: the envelope's fields, borrowed from the body.
pub(crate) struct Skim<'a> {
    /// `event`, as sent (blank or not).
    name: Cow<'a, str>,
    /// The known type of `name`.
    event_type: EventType,
    /// `event_ts`.
    event_ts: Option<Leaf<'a>>,
    /// `payload`'s JSON text; `None` if absent or `null`.
    payload: Option<&'a RawValue>,
}

impl<'a> Skim<'a> {
    /// Reads the envelope of `body`; `None` if the fast path does not apply (see the module
    /// docs): not an envelope with a string `event` of a type attend knows, a repeated
    /// envelope key, or `endpoint.url_validation`.
    pub(crate) fn read(body: &'a [u8]) -> Option<Self> {
        // First the checks the tree path makes and a skim alone would not: skipping a field
        // or capturing a payload's text checks neither nesting depth, nor that escapes are
        // valid characters, nor that numbers are in range.
        serde_json::from_slice::<Checked>(body).ok()?;
        let envelope: Envelope<'a> = serde_json::from_slice(body).ok()?;
        let Some(Leaf::Str(name)) = envelope.event else {
            return None;
        };
        let event_type = EventType::from_name(&name)?;
        if event_type == EventType::UrlValidation {
            return None;
        }
        Some(Skim {
            name,
            event_type,
            event_ts: envelope.event_ts,
            payload: envelope.payload,
        })
    }

    /// The event name as sent.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The typed content, deserialized from the payload's text; `None` if it does not
    /// deserialize that way (the tree path then decides, and gives the error).
    pub(crate) fn event(&self) -> Option<ZoomEvent> {
        typed(self.event_type, self.payload?).ok()
    }

    /// The dedupe key, equal to the tree path's; `None` where the fast path does not apply
    /// (a repeated key below the envelope).
    pub(crate) fn dedupe_key(&self) -> Option<DedupeKey> {
        // One pass over the payload reads the key fields at every depth.
        let Nested(payload): Nested<PayloadKeys<'_>> = match self.payload {
            Some(raw) => serde_json::from_str(raw.get()).ok()?,
            None => Nested::default(),
        };
        let Nested(object) = payload.object.unwrap_or_default();
        let Nested(participant) = object.participant.unwrap_or_default();
        let Nested(registrant) = object.registrant.unwrap_or_default();
        // In the order of KEY_FIELDS (a unit test checks each against its pointer).
        let texts: [Option<Cow<'_, str>>; KEY_FIELDS.len()] = [
            non_blank(&self.name),
            text(&self.event_ts),
            text(&payload.account_id),
            text(&payload.plain_token),
            text(&object.uuid),
            text(&object.id),
            text(&object.breakout_room_uuid),
            text(&participant.participant_uuid),
            text(&participant.user_id),
            text(&participant.parent_user_id),
            text(&participant.id),
            text(&participant.participant_user_id),
            text(&participant.registrant_id),
            text(&participant.join_time),
            text(&participant.leave_time),
            text(&participant.date_time),
            text(&registrant.id),
            text(&registrant.status),
        ];
        Some(hash_key_fields(texts, None))
    }
}

/// The typed content of a webhook body: read on the fast path where it applies, else by
/// [`parse_event`] (same result either way).
pub(crate) fn read_event(body: &[u8]) -> Result<ZoomEvent, EventParseError> {
    match Skim::read(body).and_then(|skim| skim.event()) {
        Some(event) => Ok(event),
        None => parse_event(body).map(|parsed| parsed.event),
    }
}

/// The fields of the object at a key, read in the same pass as the object around it: all
/// absent when the value there is not an object (as a JSON pointer finds nothing below a
/// scalar or an array, whereas a derived struct would read an array field by field). A
/// repeated key inside it is an error, as in any derived struct.
#[derive(Default)]
struct Nested<T>(T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Nested<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NestedVisitor(PhantomData))
    }
}

struct NestedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for NestedVisitor<T> {
    type Value = Nested<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Nested)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Nested::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Nested::default())
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: Option<Leaf<'a>>,
    #[serde(borrow)]
    event_ts: Option<Leaf<'a>>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Default, Deserialize)]
struct PayloadKeys<'a> {
    #[serde(borrow)]
    account_id: Option<Leaf<'a>>,
    #[serde(borrow, rename = "plainToken")]
    plain_token: Option<Leaf<'a>>,
    #[serde(borrow)]
    object: Option<Nested<ObjectKeys<'a>>>,
}

#[derive(Default, Deserialize)]
struct ObjectKeys<'a> {
    #[serde(borrow)]
    uuid: Option<Leaf<'a>>,
    #[serde(borrow)]
    id: Option<Leaf<'a>>,
    #[serde(borrow)]
    breakout_room_uuid: Option<Leaf<'a>>,
    #[serde(borrow)]
    participant: Option<Nested<ParticipantKeys<'a>>>,
    #[serde(borrow)]
    registrant: Option<Nested<RegistrantKeys<'a>>>,
}

#[derive(Default, Deserialize)]
struct ParticipantKeys<'a> {
    #[serde(borrow)]
    participant_uuid: Option<Leaf<'a>>,
    #[serde(borrow)]
    user_id: Option<Leaf<'a>>,
    #[serde(borrow)]
    parent_user_id: Option<Leaf<'a>>,
    #[serde(borrow)]
    id: Option<Leaf<'a>>,
    #[serde(borrow)]
    participant_user_id: Option<Leaf<'a>>,
    #[serde(borrow)]
    registrant_id: Option<Leaf<'a>>,
    #[serde(borrow)]
    join_time: Option<Leaf<'a>>,
    #[serde(borrow)]
    leave_time: Option<Leaf<'a>>,
    #[serde(borrow)]
    date_time: Option<Leaf<'a>>,
}

#[derive(Default, Deserialize)]
struct RegistrantKeys<'a> {
    #[serde(borrow)]
    id: Option<Leaf<'a>>,
    #[serde(borrow)]
    status: Option<Leaf<'a>>,
}

/// A JSON value read as `serde_json::Value` reads one, keeping nothing: every string (keys
/// too) is decoded and checked, every number parsed, and nesting is limited to the same depth,
/// so a body is accepted here exactly when it parses into a tree. (Skipping a value, as
/// `IgnoredAny` and `RawValue` do, checks only its syntax.)
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// Any JSON value in a key field, kept as the tree would hold it where it matters for the key.
enum Leaf<'a> {
    /// A string: borrowed unless it had escapes.
    Str(Cow<'a, str>),
    /// A number, as `serde_json::Value` holds it (so it prints the same).
    Number(serde_json::Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`, an array or an object: no text.
    Other,
}

/// The text of a key field, as the tree path's `de::value_text` gives it; `None` if absent.
fn text<'l>(leaf: &'l Option<Leaf<'_>>) -> Option<Cow<'l, str>> {
    leaf.as_ref().and_then(Leaf::text)
}

impl Leaf<'_> {
    /// The same text as the tree path's `value_text` (in `zoom::de`) for this value.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Leaf::Str(s) => non_blank(s),
            Leaf::Number(n) => Some(Cow::Owned(n.to_string())),
            Leaf::Bool(b) => Some(Cow::Owned(b.to_string())),
            Leaf::Other => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Leaf<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LeafVisitor(PhantomData))
    }
}

struct LeafVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LeafVisitor<'a> {
    type Value = Leaf<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Leaf::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Leaf::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Leaf::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // As the tree: a float JSON cannot hold would be `null` there.
        Ok(serde_json::Number::from_f64(v).map_or(Leaf::Other, Leaf::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Leaf::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Leaf::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Leaf::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Leaf::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The tree path's key of a body (what is stored), computed the way `dedupe_key` did
    /// before the fast path: parse a `Value`, hash its fields.
    fn tree_key(body: &[u8]) -> Option<DedupeKey> {
        let value: Value = serde_json::from_slice(body).ok()?;
        Some(crate::zoom::events::dedupe_key_of_value(&value))
    }

    fn bodies() -> Vec<String> {
        let participant = json!({
            "event": "meeting.participant_joined", "event_ts": 1_741_000_000_123_i64,
            "payload": {"account_id": "acct", "object": {
                "id": 85_749_372_211_i64, "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "host_id": "h", "topic": "t", "breakout_room_uuid": "",
                "participant": {"user_id": "16778240", "user_name": "Ada", "id": "",
                    "participant_uuid": "p-1", "join_time": "2025-03-01T09:01:07Z",
                    "email": "ada@example.edu", "registrant_id": "r-1",
                    "participant_user_id": "", "parent_user_id": 7,
                    "leave_time": null, "date_time": true}}}
        });
        let mut bodies = vec![participant.to_string()];
        // Whitespace, escapes, numbers of every kind, scalars where objects belong.
        bodies.push(
            "{ \"event\" : \"meeting.participant_left\" , \"event_ts\": 1.5e3,\n \"payload\" :\n \
             { \"account_id\":\"a\\u0063ct\", \"object\": { \"id\": -12, \"uuid\": \"u\\\"1\",\n \
             \"participant\" : {\"user_id\": 18446744073709551615, \"leave_time\": \
             \"2025-03-01T10:00:00Z\", \"registrant_id\": \"  \", \"id\": [1, {\"a\": 2}], \
             \"date_time\": {\"x\": 1}, \"join_time\": 2.50}}}}"
                .to_owned(),
        );
        bodies.push(
            json!({"event": "meeting.started", "event_ts": "17", "payload": {
                "account_id": 5, "object": {"id": "1", "uuid": "u", "participant": "not an object",
                "registrant": [1]}}})
            .to_string(),
        );
        bodies.push(
            json!({"event": "meeting.registration_created", "payload": {"account_id": "a",
                "object": {"id": 9, "uuid": "u", "registrant": {"id": "r", "status": "approved",
                "email": "e@x"}}}})
            .to_string(),
        );
        bodies.push(json!({"event": "meeting.ended", "payload": 5}).to_string());
        bodies.push(json!({"event": "meeting.ended", "payload": [1, 2]}).to_string());
        bodies.push(json!({"event": "meeting.ended"}).to_string());
        bodies.push(json!({"event": "meeting.ended", "payload": null}).to_string());
        bodies.push(json!({"event": "meeting.ended", "payload": {"object": null}}).to_string());
        bodies.push(json!({"event": "", "payload": {"object": {"id": 1}}}).to_string());
        // Repeated keys: the tree keeps the last; a skim gives up.
        bodies.push(
            r#"{"event":"meeting.ended","payload":{"object":{"id":1,"id":2,"uuid":"u"}}}"#
                .to_owned(),
        );
        bodies
            .push(r#"{"event":"meeting.ended","event":"meeting.started","payload":{}}"#.to_owned());
        bodies.push(
            r#"{"event":"meeting.ended","payload":{"object":{"uuid":"u"}},"payload":5}"#.to_owned(),
        );
        // Not for the fast path at all.
        bodies.push(
            json!({"event": "endpoint.url_validation", "payload": {"plainToken": "x"}}).to_string(),
        );
        bodies.push(json!({"event": "account.updated", "payload": {"a": 1}}).to_string());
        bodies.push(json!({"event": 5}).to_string());
        bodies.push("[1, 2]".to_owned());
        bodies.push("not json".to_owned());
        bodies
    }

    #[test]
    fn a_skimmed_key_is_the_trees_key() {
        let mut skimmed = 0;
        for body in bodies() {
            let Some(key) = Skim::read(body.as_bytes()).and_then(|s| s.dedupe_key()) else {
                continue;
            };
            skimmed += 1;
            assert_eq!(Some(key), tree_key(body.as_bytes()), "{body}");
        }
        // The plain bodies above (not the repeated keys or the other kinds) took the fast path.
        assert_eq!(skimmed, 9);
    }

    #[test]
    fn the_public_key_is_the_trees_key_on_every_path() {
        for body in bodies() {
            let expected = tree_key(body.as_bytes());
            let key = crate::zoom::dedupe_key(body.as_bytes());
            if let Some(expected) = expected {
                assert_eq!(key, expected, "{body}");
            }
        }
    }

    #[test]
    fn a_skim_gives_up_on_what_it_does_not_read_like_the_tree() {
        let gives_up = |body: &str| {
            Skim::read(body.as_bytes())
                .and_then(|s| s.dedupe_key())
                .is_none()
        };
        assert!(gives_up(
            r#"{"event":"meeting.ended","payload":{"object":{"id":1,"id":2}}}"#
        ));
        assert!(gives_up(
            r#"{"event":"meeting.ended","event":"meeting.started"}"#
        ));
        assert!(gives_up(
            r#"{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}"#
        ));
        assert!(gives_up(r#"{"event":"account.updated","payload":{}}"#));
        assert!(gives_up(r#"{"event":5}"#));
        assert!(gives_up("[1]"));
        assert!(gives_up("{"));
    }

    #[test]
    fn a_skimmed_event_is_the_trees_event() {
        let mut typed = 0;
        for body in bodies() {
            let Some(skim) = Skim::read(body.as_bytes()) else {
                continue;
            };
            let tree = parse_event(body.as_bytes());
            // A payload the skim cannot type is left to the tree path.
            if let Some(event) = skim.event() {
                typed += 1;
                let tree = tree.unwrap_or_else(|e| panic!("{body}: tree refused: {e}"));
                assert_eq!(event, tree.event, "{body}");
                assert_eq!(skim.name(), tree.name, "{body}");
            }
        }
        assert!(typed >= 4, "only {typed} bodies were typed by the skim");
    }

    #[test]
    fn a_skim_gives_up_where_only_a_full_parse_refuses() {
        // Each is well-formed to a skipping reader; the tree path refuses it as not JSON.
        let refused = [
            r#"{"event":"meeting.ended","x":"\ud800","payload":{"object":{"uuid":"u"}}}"#
                .to_owned(),
            r#"{"event":"meeting.ended","x":1e400,"payload":{"object":{"uuid":"u"}}}"#.to_owned(),
            format!(
                r#"{{"event":"meeting.ended","x":{}{},"payload":{{"object":{{"uuid":"u"}}}}}}"#,
                "[".repeat(130),
                "]".repeat(130)
            ),
        ];
        for body in refused {
            assert!(
                serde_json::from_slice::<Value>(body.as_bytes()).is_err(),
                "{body}"
            );
            assert!(Skim::read(body.as_bytes()).is_none(), "{body}");
        }
        let mut not_utf8 = br#"{"event":"meeting.ended","x":"?","payload":{}}"#.to_vec();
        let at = not_utf8.iter().position(|&b| b == b'?').unwrap_or_default();
        not_utf8[at] = 0xff;
        assert!(serde_json::from_slice::<Value>(&not_utf8).is_err());
        assert!(Skim::read(&not_utf8).is_none());
    }

    mod generated {
        use proptest::prelude::*;
        use serde_json::{Map, Value, json};

        use super::{Skim, tree_key};
        use crate::zoom::events::parse_event;

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "[ a-z0-9:\\\\\"\u{e9}\u{1F600}-]{0,12}".prop_map(Value::from),
                Just(json!([1, "x", {"k": null}])),
                Just(json!({"k": 1, "id": "nested"})),
            ]
        }

        /// An object with some of `fields` (each a leaf) and maybe an unrelated one.
        fn object(fields: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
            proptest::collection::vec((0..fields.len(), leaf()), 0..fields.len() + 2).prop_map(
                move |picked| {
                    picked
                        .into_iter()
                        .map(|(i, v)| (fields[i].to_owned(), v))
                        .collect()
                },
            )
        }

        fn body() -> impl Strategy<Value = String> {
            let name = prop_oneof![
                Just("meeting.participant_joined"),
                Just("meeting.participant_left"),
                Just("meeting.participant_joined_breakout_room"),
                Just("webinar.participant_left"),
                Just("meeting.started"),
                Just("meeting.ended"),
                Just("meeting.registration_created"),
                Just("endpoint.url_validation"),
                Just("account.updated"),
            ];
            let participant = object(&[
                "participant_uuid",
                "user_id",
                "parent_user_id",
                "id",
                "participant_user_id",
                "registrant_id",
                "join_time",
                "leave_time",
                "date_time",
                "user_name",
                "email",
                "leave_reason",
            ]);
            let registrant = object(&["id", "status", "email", "first_name", "join_url"]);
            let object = object(&[
                "uuid",
                "id",
                "breakout_room_uuid",
                "host_id",
                "topic",
                "start_time",
            ]);
            let payload_fields = object_fields();
            (
                name,
                leaf(),
                payload_fields,
                object,
                participant,
                registrant,
                0..6_u8,
            )
                .prop_map(
                    |(name, ts, mut payload, mut object, participant, registrant, shape)| {
                        object.insert("participant".into(), Value::Object(participant));
                        object.insert("registrant".into(), Value::Object(registrant));
                        if shape == 1 {
                            object.insert("participant".into(), json!("not an object"));
                        }
                        if shape == 2 {
                            object.insert("join_time".into(), json!("2025-03-01T09:00:00Z"));
                        }
                        payload.insert("object".into(), Value::Object(object));
                        let payload = match shape {
                            3 => json!([payload]),
                            4 => Value::Null,
                            _ => Value::Object(payload),
                        };
                        let text =
                            json!({"event": name, "event_ts": ts, "payload": payload}).to_string();
                        if shape == 5 {
                            // A repeated key the tree resolves to its last value.
                            text.replacen(
                                "\"payload\":{",
                                "\"payload\":{\"account_id\":\"first\",",
                                1,
                            )
                        } else {
                            text
                        }
                    },
                )
        }

        fn object_fields() -> impl Strategy<Value = Map<String, Value>> {
            object(&["account_id", "plainToken", "operator"])
        }

        proptest! {
            #[test]
            fn skimmed_keys_and_events_are_the_trees(body in body()) {
                let tree = tree_key(body.as_bytes());
                if let Some(skim) = Skim::read(body.as_bytes()) {
                    if let Some(key) = skim.dedupe_key() {
                        prop_assert_eq!(Some(key), tree.clone(), "{}", body);
                    }
                    if let Some(event) = skim.event() {
                        let parsed = parse_event(body.as_bytes());
                        prop_assert!(parsed.is_ok(), "{}: {:?}", body, parsed);
                        prop_assert_eq!(Some(event), parsed.ok().map(|p| p.event), "{}", body);
                    }
                }
                prop_assert_eq!(Some(crate::zoom::dedupe_key(body.as_bytes())), tree, "{}", body);
            }
        }
    }
}
