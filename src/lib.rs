//! Examples and integration tests.
