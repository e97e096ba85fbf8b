//! Black-box tests of the Customer API live in `tests/`; this crate has no library code.
