//! The governance gate's tests, one binary: the checks on this repository and on broken
//! copies of it (`checks`), each breaking-change rule on a small pair (`rules`), the
//! oasdiff catalogue (`catalogue`), the `diff` command as another team runs it (`cli`) and
//! the traffic check on fixtures (`traffic`).

mod catalogue;
mod checks;
mod cli;
mod rules;
mod traffic;
