//! The governance gate's tests, one binary: the checks on this repository and on broken
//! copies of it (`checks`), each breaking-change rule on a small pair (`rules`), the
//! oasdiff catalogue (`catalogue`), the `diff` command as another team runs it (`cli`),
//! the documents' invocations of the gate (`docs`), the traffic check on fixtures
//! (`traffic`), the lint's ruleset on small documents (`lint`) and the pacts against the
//! documents (`bidirectional`).

mod bidirectional;
mod catalogue;
mod checks;
mod cli;
mod docs;
mod lint;
mod rules;
mod traffic;
