//! CPU a parser child's walls cost, per child, put up either way:
//!
//! ```sh
//! cargo run --release -p docintel-backend --example walls_cost -- [children]
//! ```
//! For each way, a stand-in fork server forks `children` children one after the other
//! (each puts up its walls and exits) and reaps them; the CPU of the stand-in and of its
//! children (`RUSAGE_CHILDREN`, user + system) is divided by the children. "bare" forks
//! children that put up nothing: the other lines less that one are the walls' cost.
//! - per child: each child puts up the Parse rule set and the whole Parse filter;
//! - inherited: the stand-in walls itself off first, each child stacks the small filter.

use std::time::Duration;

use docintel_backend::pipeline::sandbox::walls::{self, Filters, Profile};
use nix::libc;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Bare,
    PerChild,
    Inherited,
}

/// CPU of the reaped descendants so far.
fn reaped_cpu() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let (user, system) = (usage.user_time(), usage.system_time());
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(micros(user) + micros(system))
}

/// The stand-in fork server: forks `children` children walled `way`, then exits.
fn stand_in(way: Way, children: u32, filters: &Filters) -> i32 {
    let inherited = match way {
        Way::Inherited => match walls::wall_off_fork_server(filters) {
            Some(inherited) => Some(inherited),
            None => return 2,
        },
        _ => None,
    };
    for _ in 0..children {
        // SAFETY: this process is one thread; the child only puts up walls and exits.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let held = match (way, inherited) {
                    (Way::Bare, _) => walls::Walls::ALL,
                    (Way::PerChild, _) => walls::wall_off(Profile::Parse, filters, &[]),
                    (Way::Inherited, Some(i)) => walls::close_fork_server_calls(i, filters),
                    (Way::Inherited, None) => walls::Walls::default(),
                };
                // SAFETY: ends the child at once, as the parser children do.
                unsafe { libc::_exit(if held == walls::Walls::ALL { 0 } else { 1 }) }
            }
            Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
                Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => {}
                _ => return 1,
            },
            Err(_) => return 1,
        }
    }
    0
}

fn main() {
    let children: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let filters = Filters::compile();
    let mut bare = Duration::ZERO;
    // Twice over: the first round warms what the second measures again.
    for way in [Way::Bare, Way::PerChild, Way::Inherited].repeat(2) {
        let name = match way {
            Way::Bare => "bare",
            Way::PerChild => "per child",
            Way::Inherited => "inherited",
        };
        let before = reaped_cpu();
        // SAFETY: this process is one thread; the stand-in exits without returning.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let code = stand_in(way, children, &filters);
                // SAFETY: ends the stand-in without this program's exit handlers.
                unsafe { libc::_exit(code) }
            }
            Ok(ForkResult::Parent { child }) => {
                let status = waitpid(child, None).expect("waitpid");
                assert!(
                    matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)),
                    "{name}: a child did not hold its walls ({status:?})"
                );
            }
            Err(e) => panic!("fork: {e}"),
        }
        let per = (reaped_cpu() - before) / children;
        if way == Way::Bare {
            bare = per;
        }
        println!(
            "{name:<10} {:>7.1} µs CPU per child, walls {:>6.1} µs",
            per.as_secs_f64() * 1e6,
            per.saturating_sub(bare).as_secs_f64() * 1e6
        );
    }
}
