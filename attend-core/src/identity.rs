//! Who is this participant? The identity cascade, as pure functions.
//!
//! Zoom's participant ids mean nothing to the host application. attend ties a participant
//! connection to a host user with a fixed cascade over the hints Zoom sends
//! ([`IdentityHints`]); the first rule that gives exactly one user wins, and the rule is
//! recorded as [`MatchedBy`]:
//!
//! 1. the meeting's **host** (the participant's Zoom user id equals the meeting's `host_id`)
//!    is neither matched nor unmatched: [`Resolution::Host`], left out of every roster;
//! 2. `registrant_id` is one attend created for a user → [`MatchedBy::RegistrantId`];
//! 3. `customer_key` (Meeting SDK) equals a host user id → [`MatchedBy::CustomerKey`];
//! 4. the participant email equals the email a registrant was created with (attend's
//!    possibly synthetic `{user}@{domain}` email) → [`MatchedBy::Email`];
//! 5. the participant email equals a host user's own email → [`MatchedBy::Email`];
//! 6. an instructor linked the participant's person key by hand → [`MatchedBy::Manual`];
//! 7. otherwise the participant is unmatched, kept under its [`PersonKey`].
//!
//! Emails compare ASCII case-insensitively after trimming. An email or a registrant id that
//! maps to two different users is **ambiguous** and matches no one (falls through to the next
//! rule): a wrong match is worse than none. **Display names are never identity**: they only
//! group unmatched connections of one person when Zoom gives no email, and only ever flag,
//! never match.
//!
//! The service builds an [`IdentityTables`] per meeting from storage and the host's user
//! directory, then calls [`resolve`] per connection at read time, so a manual link or a new
//! registration shows at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::attendance::Subject;
use crate::model::{ConnectionKey, IdentityHints, MatchedBy, UserId};

/// Normalizes an email for comparison: trimmed, ASCII-lowercased; `None` when empty or
/// without an `@`.
pub fn normalize_email(email: &str) -> Option<String> {
    let trimmed = email.trim();
    if trimmed.is_empty() || !trimmed.contains('@') {
        return None;
    }
    Some(trimmed.to_ascii_lowercase())
}

/// Normalizes a display name for grouping: trimmed, inner whitespace collapsed, lowercased;
/// `None` when empty.
pub fn normalize_name(name: &str) -> Option<String> {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }
    Some(collapsed.to_lowercase())
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The key of one unmatched *person* inside one meeting, grouping their connections.
///
/// `email:{trimmed, lowercased email}` when Zoom gives an email, else `name:{trimmed display
/// name}`, else `connection:{connection key}`. It is the `participant_key` of the unmatched
/// list and of manual links, stable across reads.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonKey(pub String);

impl PersonKey {
    /// The person key of a connection with these hints: the same rule the attendance engine
    /// documents ([`Subject::person_key`]), so the unmatched list, manual links and rosters
    /// agree.
    pub fn of(hints: &IdentityHints, connection: &ConnectionKey) -> Self {
        PersonKey(Subject::person_key(hints, connection))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonKey({:?})", self.0)
    }
}

/// A lookup that may be ambiguous: a key seen with two different users maps to no one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct UniqueMap {
    map: HashMap<String, Option<UserId>>,
}

impl UniqueMap {
    fn insert(&mut self, key: String, user: UserId) {
        self.map
            .entry(key)
            .and_modify(|existing| {
                if existing.as_ref() != Some(&user) {
                    *existing = None;
                }
            })
            .or_insert(Some(user));
    }

    fn get(&self, key: &str) -> Option<&UserId> {
        self.map.get(key).and_then(Option::as_ref)
    }
}

/// Everything the cascade looks things up in, for one meeting. Built by the service; all
/// inserts normalize their keys, and conflicting inserts make a key ambiguous. Equal tables
/// resolve every participant alike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityTables {
    host_ids: HashSet<String>,
    registrants: UniqueMap,
    known_users: HashSet<UserId>,
    registrant_emails: UniqueMap,
    user_emails: UniqueMap,
    manual: HashMap<PersonKey, UserId>,
}

impl IdentityTables {
    /// Empty tables: everyone is unmatched.
    pub fn new() -> Self {
        Self::default()
    }

    /// A Zoom user id of the meeting's host (several when a host changed between instances).
    pub fn add_host_id(&mut self, zoom_user_id: &str) -> &mut Self {
        let id = zoom_user_id.trim();
        if !id.is_empty() {
            self.host_ids.insert(id.to_owned());
        }
        self
    }

    /// A registrant attend created: its id and the email it was created with (possibly
    /// synthetic; `None` if unknown).
    pub fn add_registrant(
        &mut self,
        registrant_id: &str,
        email: Option<&str>,
        user: &UserId,
    ) -> &mut Self {
        let id = registrant_id.trim();
        if !id.is_empty() {
            self.registrants.insert(id.to_owned(), user.clone());
        }
        if let Some(email) = email.and_then(normalize_email) {
            self.registrant_emails.insert(email, user.clone());
        }
        self
    }

    /// A registration without a registrant id yet (pending), known only by the email attend
    /// will create it with.
    pub fn add_registrant_email(&mut self, email: &str, user: &UserId) -> &mut Self {
        if let Some(email) = normalize_email(email) {
            self.registrant_emails.insert(email, user.clone());
        }
        self
    }

    /// A host user that exists (so a `customer_key` equal to its id matches), with its own
    /// email if the host has one.
    pub fn add_host_user(&mut self, user: &UserId, email: Option<&str>) -> &mut Self {
        self.known_users.insert(user.clone());
        if let Some(email) = email.and_then(normalize_email) {
            self.user_emails.insert(email, user.clone());
        }
        self
    }

    /// An instructor's manual link of a person key to a user (the last one added wins).
    pub fn add_manual_link(&mut self, person: PersonKey, user: &UserId) -> &mut Self {
        self.manual.insert(person, user.clone());
        self
    }

    /// Whether this Zoom user id is the meeting host.
    pub fn is_host(&self, hints: &IdentityHints) -> bool {
        non_empty(&hints.participant_user_id).is_some_and(|id| self.host_ids.contains(id))
    }
}

/// A connection tied to a host user, and by which rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Match {
    /// The host user.
    pub user: UserId,
    /// The rule that matched.
    pub by: MatchedBy,
}

/// The outcome of [`resolve`] for one connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// The meeting's host: in no roster and not unmatched.
    Host,
    /// Tied to a host user.
    Matched(Match),
    /// No host user found; grouped under this person key.
    Unmatched(PersonKey),
}

impl Resolution {
    /// The matched user, if any.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Resolution::Matched(m) => Some(&m.user),
            _ => None,
        }
    }
}

/// Runs the cascade for one connection. `connection` only names the person key of a
/// connection with neither email nor display name.
pub fn resolve(
    hints: &IdentityHints,
    connection: &ConnectionKey,
    tables: &IdentityTables,
) -> Resolution {
    if tables.is_host(hints) {
        return Resolution::Host;
    }
    let matched = |user: &UserId, by| {
        Resolution::Matched(Match {
            user: user.clone(),
            by,
        })
    };
    if let Some(user) = non_empty(&hints.registrant_id).and_then(|id| tables.registrants.get(id)) {
        return matched(user, MatchedBy::RegistrantId);
    }
    if let Some(key) = non_empty(&hints.customer_key) {
        let user = UserId::new(key);
        if tables.known_users.contains(&user) {
            return matched(&user, MatchedBy::CustomerKey);
        }
    }
    let email = hints.email.as_deref().and_then(normalize_email);
    if let Some(email) = &email {
        if let Some(user) = tables.registrant_emails.get(email) {
            return matched(user, MatchedBy::Email);
        }
        if let Some(user) = tables.user_emails.get(email) {
            return matched(user, MatchedBy::Email);
        }
    }
    let person = PersonKey::of(hints, connection);
    if let Some(user) = tables.manual.get(&person) {
        return matched(user, MatchedBy::Manual);
    }
    Resolution::Unmatched(person)
}

/// Merges the hints of one connection's events (joined, left, waiting room, report row)
/// into one: for each field, the first non-empty value in the given order wins. Zoom may
/// send a `registrant_id` on the join and `""` on the leave, or an email only on some events.
pub fn merge_hints<'a>(hints: impl IntoIterator<Item = &'a IdentityHints>) -> IdentityHints {
    let mut merged = IdentityHints::default();
    let take = |slot: &mut Option<String>, value: &Option<String>| {
        if slot.is_none()
            && let Some(v) = non_empty(value)
        {
            *slot = Some(v.to_owned());
        }
    };
    for h in hints {
        take(&mut merged.registrant_id, &h.registrant_id);
        take(&mut merged.customer_key, &h.customer_key);
        take(&mut merged.email, &h.email);
        take(&mut merged.participant_user_id, &h.participant_user_id);
        take(&mut merged.participant_uuid, &h.participant_uuid);
        take(&mut merged.zoom_user_id, &h.zoom_user_id);
        take(&mut merged.user_name, &h.user_name);
    }
    merged
}

/// One connection's presence, for [`detect_shared_links`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionPresence {
    /// The connection.
    pub connection: ConnectionKey,
    /// Its merged hints.
    pub hints: IdentityHints,
    /// Its first presence.
    pub from: DateTime<Utc>,
    /// Its last presence; `None` while still connected (open ended).
    pub to: Option<DateTime<Utc>>,
}

/// A personal registrant link that looks used by more than one person at the same time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedLinkSuspect {
    /// The registrant id seen on overlapping connections.
    pub registrant_id: String,
    /// The connections involved, sorted.
    pub connections: Vec<ConnectionKey>,
}

/// Whether two connections visibly come from different people: different signed-in Zoom
/// users, different emails, or (a weak signal, only for this warning) different display
/// names. Unknown on either side means "not visibly different".
fn different_people(a: &IdentityHints, b: &IdentityHints) -> bool {
    let differ =
        |x: Option<String>, y: Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    differ(
        non_empty(&a.participant_user_id).map(str::to_owned),
        non_empty(&b.participant_user_id).map(str::to_owned),
    ) || differ(
        a.email.as_deref().and_then(normalize_email),
        b.email.as_deref().and_then(normalize_email),
    ) || differ(
        a.user_name.as_deref().and_then(normalize_name),
        b.user_name.as_deref().and_then(normalize_name),
    )
}

/// A presence with borrowed connection and hints: what [`detect_shared_links`] reads, so that
/// a roster read can check its connections without copying their keys and hints.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PresenceRef<'a> {
    pub(crate) connection: &'a ConnectionKey,
    pub(crate) hints: &'a IdentityHints,
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: Option<DateTime<Utc>>,
}

impl<'a> From<&'a ConnectionPresence> for PresenceRef<'a> {
    fn from(p: &'a ConnectionPresence) -> Self {
        Self {
            connection: &p.connection,
            hints: &p.hints,
            from: p.from,
            to: p.to,
        }
    }
}

fn overlap(a: &PresenceRef<'_>, b: &PresenceRef<'_>) -> bool {
    let a_end = a.to.unwrap_or(DateTime::<Utc>::MAX_UTC);
    let b_end = b.to.unwrap_or(DateTime::<Utc>::MAX_UTC);
    a.from < b_end && b.from < a_end
}

/// Finds registrant ids used on two connections at overlapping times by visibly different
/// people (Zoom: a registrant link "can be used once concurrently", but a shared link still
/// lets a second person in). Touching intervals (one leaves as the other joins) do not
/// overlap; the same person on two devices is not flagged. Sorted by registrant id.
pub fn detect_shared_links(connections: &[ConnectionPresence]) -> Vec<SharedLinkSuspect> {
    shared_links(connections.iter().map(PresenceRef::from))
}

/// [`detect_shared_links`] over borrowed presences.
pub(crate) fn shared_links<'a>(
    connections: impl IntoIterator<Item = PresenceRef<'a>>,
) -> Vec<SharedLinkSuspect> {
    let mut by_registrant: BTreeMap<&str, Vec<PresenceRef<'a>>> = BTreeMap::new();
    for c in connections {
        if let Some(id) = non_empty(&c.hints.registrant_id) {
            by_registrant.entry(id).or_default().push(c);
        }
    }
    let mut out = Vec::new();
    for (registrant_id, conns) in by_registrant {
        let mut involved: Vec<ConnectionKey> = Vec::new();
        for (i, a) in conns.iter().enumerate() {
            for b in &conns[i + 1..] {
                if a.connection != b.connection
                    && overlap(a, b)
                    && different_people(a.hints, b.hints)
                {
                    involved.push(a.connection.clone());
                    involved.push(b.connection.clone());
                }
            }
        }
        if !involved.is_empty() {
            involved.sort();
            involved.dedup();
            out.push(SharedLinkSuspect {
                registrant_id: registrant_id.to_owned(),
                connections: involved,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints() -> IdentityHints {
        IdentityHints::default()
    }

    fn conn(s: &str) -> ConnectionKey {
        ConnectionKey::new(s)
    }

    fn tables() -> IdentityTables {
        let mut t = IdentityTables::new();
        t.add_host_id("HOST1")
            .add_registrant("reg-ana", Some("ana+m1@attend.example"), &"ana".into())
            .add_registrant("reg-bo", Some("bo@school.example"), &"bo".into())
            .add_host_user(&"ana".into(), Some("Ana@School.example"))
            .add_host_user(&"bo".into(), Some("bo@school.example"))
            .add_host_user(&"cy".into(), Some("cy@school.example"))
            .add_host_user(&"dee".into(), None);
        t
    }

    fn matched(user: &str, by: MatchedBy) -> Resolution {
        Resolution::Matched(Match {
            user: user.into(),
            by,
        })
    }

    #[test]
    fn registrant_id_wins_over_everything_else() {
        let h = IdentityHints {
            registrant_id: Some("reg-ana".into()),
            customer_key: Some("cy".into()),
            email: Some("cy@school.example".into()),
            user_name: Some("Cy".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&h, &conn("c1"), &tables()),
            matched("ana", MatchedBy::RegistrantId)
        );
    }

    #[test]
    fn customer_key_needs_an_existing_user() {
        let h = IdentityHints {
            customer_key: Some("dee".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&h, &conn("c1"), &tables()),
            matched("dee", MatchedBy::CustomerKey)
        );
        let unknown = IdentityHints {
            customer_key: Some("zed".into()),
            ..hints()
        };
        assert!(matches!(
            resolve(&unknown, &conn("c1"), &tables()),
            Resolution::Unmatched(_)
        ));
    }

    #[test]
    fn synthetic_registrant_email_then_user_email_case_insensitive() {
        let synthetic = IdentityHints {
            email: Some(" ANA+m1@attend.example ".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&synthetic, &conn("c1"), &tables()),
            matched("ana", MatchedBy::Email)
        );
        let own = IdentityHints {
            email: Some("CY@school.EXAMPLE".into()),
            registrant_id: Some("someone-elses-self-registration".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&own, &conn("c1"), &tables()),
            matched("cy", MatchedBy::Email)
        );
    }

    #[test]
    fn display_names_never_match() {
        let h = IdentityHints {
            user_name: Some("ana".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&h, &conn("c1"), &tables()),
            Resolution::Unmatched(PersonKey("name:ana".into()))
        );
    }

    #[test]
    fn manual_link_applies_to_the_person_key() {
        let mut t = tables();
        t.add_manual_link(PersonKey("name:Guest 7".into()), &"cy".into());
        let h = IdentityHints {
            user_name: Some("  Guest 7 ".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&h, &conn("c9"), &t),
            matched("cy", MatchedBy::Manual)
        );
    }

    #[test]
    fn host_is_excluded_even_when_registered() {
        let h = IdentityHints {
            participant_user_id: Some("HOST1".into()),
            registrant_id: Some("reg-ana".into()),
            ..hints()
        };
        assert_eq!(resolve(&h, &conn("c1"), &tables()), Resolution::Host);
    }

    #[test]
    fn ambiguous_email_matches_no_one() {
        let mut t = IdentityTables::new();
        t.add_host_user(&"a".into(), Some("shared@x.org"))
            .add_host_user(&"b".into(), Some("SHARED@x.org"));
        let h = IdentityHints {
            email: Some("shared@x.org".into()),
            ..hints()
        };
        assert_eq!(
            resolve(&h, &conn("c1"), &t),
            Resolution::Unmatched(PersonKey("email:shared@x.org".into()))
        );
        // The same user added twice is not ambiguous.
        let mut t = IdentityTables::new();
        t.add_host_user(&"a".into(), Some("a@x.org"))
            .add_host_user(&"a".into(), Some("A@x.org"));
        let h = IdentityHints {
            email: Some("a@x.org".into()),
            ..hints()
        };
        assert_eq!(resolve(&h, &conn("c1"), &t), matched("a", MatchedBy::Email));
    }

    #[test]
    fn person_key_prefers_email_then_name_then_connection() {
        let with_both = IdentityHints {
            email: Some("G@x.org".into()),
            user_name: Some("G".into()),
            ..hints()
        };
        assert_eq!(
            PersonKey::of(&with_both, &conn("c")).as_str(),
            "email:g@x.org"
        );
        let name_only = IdentityHints {
            user_name: Some("Guest".into()),
            email: Some("".into()),
            ..hints()
        };
        assert_eq!(PersonKey::of(&name_only, &conn("c")).as_str(), "name:Guest");
        assert_eq!(PersonKey::of(&hints(), &conn("c")).as_str(), "connection:c");
    }

    #[test]
    fn merge_takes_first_non_empty() {
        let join = IdentityHints {
            registrant_id: Some("r1".into()),
            email: Some("".into()),
            user_name: Some("Ana".into()),
            ..hints()
        };
        let leave = IdentityHints {
            registrant_id: Some("".into()),
            email: Some("ana@x.org".into()),
            user_name: Some("Ana B".into()),
            ..hints()
        };
        let merged = merge_hints([&leave, &join]);
        assert_eq!(merged.registrant_id.as_deref(), Some("r1"));
        assert_eq!(merged.email.as_deref(), Some("ana@x.org"));
        assert_eq!(merged.user_name.as_deref(), Some("Ana B"));
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn presence(
        c: &str,
        reg: &str,
        name: &str,
        from: &str,
        to: Option<&str>,
    ) -> ConnectionPresence {
        ConnectionPresence {
            connection: conn(c),
            hints: IdentityHints {
                registrant_id: Some(reg.into()),
                user_name: Some(name.into()),
                ..hints()
            },
            from: t(from),
            to: to.map(t),
        }
    }

    #[test]
    fn shared_link_needs_overlap_and_different_people() {
        let conns = vec![
            presence(
                "c1",
                "r1",
                "Ana",
                "2025-01-01T10:00:00Z",
                Some("2025-01-01T11:00:00Z"),
            ),
            // Another person on the same link, overlapping: flagged.
            presence("c2", "r1", "Max", "2025-01-01T10:30:00Z", None),
            // Same person, second device: not flagged by itself.
            presence(
                "c3",
                "r2",
                "Bo",
                "2025-01-01T10:00:00Z",
                Some("2025-01-01T11:00:00Z"),
            ),
            presence(
                "c4",
                "r2",
                "bo",
                "2025-01-01T10:10:00Z",
                Some("2025-01-01T10:20:00Z"),
            ),
            // Sequential use by two names: touching, not overlapping.
            presence(
                "c5",
                "r3",
                "Cy",
                "2025-01-01T10:00:00Z",
                Some("2025-01-01T10:30:00Z"),
            ),
            presence(
                "c6",
                "r3",
                "Dee",
                "2025-01-01T10:30:00Z",
                Some("2025-01-01T11:00:00Z"),
            ),
        ];
        let found = detect_shared_links(&conns);
        assert_eq!(
            found,
            vec![SharedLinkSuspect {
                registrant_id: "r1".into(),
                connections: vec![conn("c1"), conn("c2")],
            }]
        );
    }
}
