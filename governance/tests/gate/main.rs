//! The governance gate's tests, one binary: the checks on this repository and on broken
//! copies of it (`checks`), each breaking-change rule on a small pair (`rules`), the
//! oasdiff catalogue (`catalogue`) and the `diff` command as another team runs it (`cli`).

mod catalogue;
mod checks;
mod cli;
mod rules;
