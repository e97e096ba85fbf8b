//! TODO(issue 4).
