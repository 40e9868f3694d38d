//! The storage conformance suite (being written).
