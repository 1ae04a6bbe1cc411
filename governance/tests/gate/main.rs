//! The governance gate's tests, one binary: the checks on this repository and on broken
//! copies of it (`checks`), and each breaking-change rule on a small pair (`rules`).

mod checks;
mod rules;
