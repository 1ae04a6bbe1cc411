//! The walls around a parser child: a Landlock rule set and a seccomp filter. Both are
//! inherited by everything the child starts and can never be lifted.
//!
//! Two profiles, chosen by the task:
//! - [`Profile::Parse`] (text, PDF text layers, image decoding, thumbnails drawn by the
//!   library): no filesystem access at all, no network, no signal to anything outside,
//!   and a system-call allow-list without `open*`, `socket`, `connect`, `execve`, `clone`
//!   or `ptrace`. The bytes came in, and the answer goes out, over descriptors the child
//!   was born with.
//! - [`Profile::Tools`] (OCR by Tesseract, pages drawn by pdftoppm): those programs must be
//!   executed and read their libraries and models, so the rule set allows reading and
//!   executing the system's program folders and writing nowhere (pages and text travel
//!   through pipes, never temporary files), and the filter refuses the network, tracing
//!   and the kernel's administrative calls.
//!
//! Where they are put up: the parse fork server, whose children all take
//! [`Profile::Parse`], walls itself off once before its first child ([`wall_off_fork_server`]:
//! the Parse rule set, and the Parse allow-list plus the few calls a fork server makes);
//! each child inherits both across `fork` and stacks a small filter refusing those few
//! calls ([`close_fork_server_calls`]), which leaves it exactly the Parse allow-list. The
//! kernel checks and compiles a filter when it is installed, so a small one per child
//! costs less than the whole allow-list per child. The OCR fork server's children put up
//! their task's walls one by one ([`wall_off`]), as does every child of a parse fork server
//! that could not wall itself off.
//!
//! A refused call fails with `EPERM` (seccomp) or `EACCES` (Landlock): the parser sees an
//! error, and the document fails with a reason; the process is not killed for trying.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use nix::libc;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use serde::{Deserialize, Serialize};

/// The newest Landlock ABI this code was written and tested against; older kernels get
/// what they support (and say so).
const LANDLOCK_ABI: ABI = ABI::V6;

/// Which walls a task's child puts up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Parse,
    Tools,
}

/// What the kernel enforced for one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Walls {
    /// Landlock enforced every restriction asked for.
    pub landlock: bool,
    /// The seccomp filter is installed.
    pub seccomp: bool,
}

impl Walls {
    /// Both walls.
    pub const ALL: Walls = Walls {
        landlock: true,
        seccomp: true,
    };

    /// Whether `self` holds every wall of `required`.
    pub fn holds(self, required: Walls) -> bool {
        (self.landlock || !required.landlock) && (self.seccomp || !required.seccomp)
    }
}

/// The system calls a parsing child may make: reading and writing the descriptors it has,
/// memory, time, signals to itself (to die of them) and exiting.
const PARSE_ALLOWED: &[libc::c_long] = &[
    libc::SYS_read,
    libc::SYS_readv,
    libc::SYS_pread64,
    libc::SYS_write,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_statx,
    libc::SYS_lseek,
    libc::SYS_fcntl,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_brk,
    libc::SYS_futex,
    libc::SYS_sigaltstack,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_clock_gettime,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_gettimeofday,
    libc::SYS_getrandom,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_getuid,
    libc::SYS_geteuid,
    libc::SYS_prlimit64,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// What a parse fork server makes besides [`PARSE_ALLOWED`], itself or in a child before
/// that child stacks its own filter: allowed in the fork server's filter, refused by the
/// child's.
const FORK_SERVER_ONLY: &[libc::c_long] = &[
    // Waiting for a request or a child's end.
    #[cfg(target_arch = "x86_64")]
    libc::SYS_poll,
    #[cfg(not(target_arch = "x86_64"))]
    libc::SYS_ppoll,
    // A request's descriptors.
    libc::SYS_recvmsg,
    // fork (glibc forks with clone; the fork server's filter allows only a process copy).
    libc::SYS_clone,
    // glibc, in the new child.
    libc::SYS_set_robust_list,
    // Reaping the children (waitpid).
    libc::SYS_wait4,
    // Each child is its own process group, set by both sides.
    libc::SYS_setpgid,
    // The child's death signal, and the `no_new_privs` seccompiler sets before it stacks
    // the child's filter (only those two in the fork server's filter).
    libc::SYS_prctl,
    // Stacking the child's filter (only a filter: one can only take calls away).
    libc::SYS_seccomp,
    // The child checks that the fork server is still its parent.
    libc::SYS_getppid,
    // The child takes its descriptors as stdin, stdout and stderr and closes the rest.
    #[cfg(target_arch = "x86_64")]
    libc::SYS_dup2,
    #[cfg(not(target_arch = "x86_64"))]
    libc::SYS_dup3,
    libc::SYS_close_range,
];

/// What a child running the tools may never do.
const TOOLS_REFUSED: &[libc::c_long] = &[
    libc::SYS_socket,
    libc::SYS_socketpair,
    libc::SYS_connect,
    libc::SYS_bind,
    libc::SYS_listen,
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_open,
    libc::SYS_pidfd_getfd,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_kexec_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
];

/// The walls' filters, compiled once (in the fork server, before any child).
pub struct Filters {
    parse: Option<BpfProgram>,
    tools: Option<BpfProgram>,
    /// The parse fork server's own: [`PARSE_ALLOWED`] and [`FORK_SERVER_ONLY`].
    fork_server: Option<BpfProgram>,
    /// Stacked by each of its children: refuses [`FORK_SERVER_ONLY`].
    fork_server_only: Option<BpfProgram>,
}

impl Filters {
    /// Compiles the filters; `None` for this machine's architecture if seccompiler does
    /// not know it (the child then reports seccomp as not enforced).
    pub fn compile() -> Self {
        // Each rule: the first argument is one of these.
        let first_is = |values: &[u64]| -> Option<Vec<SeccompRule>> {
            values
                .iter()
                .map(|v| {
                    let c = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *v);
                    SeccompRule::new(vec![c.ok()?]).ok()
                })
                .collect()
        };
        let only = |call: libc::c_long| -> Option<Vec<SeccompRule>> {
            match call {
                // A copy of the process, never a thread or new namespaces.
                libc::SYS_clone => {
                    let c = SeccompCondition::new(
                        0,
                        SeccompCmpArgLen::Qword,
                        SeccompCmpOp::MaskedEq(CLONE_REFUSED),
                        0,
                    );
                    Some(vec![SeccompRule::new(vec![c.ok()?]).ok()?])
                }
                libc::SYS_prctl => first_is(&[
                    libc::PR_SET_PDEATHSIG as u64,
                    libc::PR_SET_NO_NEW_PRIVS as u64,
                ]),
                libc::SYS_seccomp => first_is(&[libc::SECCOMP_SET_MODE_FILTER as u64]),
                _ => Some(Vec::new()),
            }
        };
        let fork_server = PARSE_ALLOWED
            .iter()
            .map(|c| Some((*c, Vec::new())))
            .chain(FORK_SERVER_ONLY.iter().map(|c| Some((*c, only(*c)?))))
            .collect::<Option<BTreeMap<_, _>>>();
        let plain =
            |calls: &[libc::c_long]| -> Rules { calls.iter().map(|c| (*c, Vec::new())).collect() };
        Self {
            parse: build(plain(PARSE_ALLOWED), true),
            tools: build(plain(TOOLS_REFUSED), false),
            fork_server: fork_server.and_then(|rules| build(rules, true)),
            fork_server_only: build(plain(FORK_SERVER_ONLY), false),
        }
    }

    /// The length (in BPF instructions) of the parse profile's filter and of the filter a
    /// parse fork server's child stacks.
    #[cfg(test)]
    pub(super) fn lengths(&self) -> Option<(usize, usize)> {
        Some((
            self.parse.as_ref()?.len(),
            self.fork_server_only.as_ref()?.len(),
        ))
    }
}

type Rules = BTreeMap<i64, Vec<SeccompRule>>;

/// `clone` flags the fork server never passes: a thread, shared memory or a namespace.
const CLONE_REFUSED: u64 = (libc::CLONE_VM
    | libc::CLONE_THREAD
    | libc::CLONE_SIGHAND
    | libc::CLONE_FILES
    | libc::CLONE_FS
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWCGROUP) as u64;

/// An allow-list (`allow_listed`: everything else refused) or a deny-list of `rules`.
fn build(rules: Rules, allow_listed: bool) -> Option<BpfProgram> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).ok()?;
    let refuse = SeccompAction::Errno(libc::EPERM as u32);
    let (mismatch, matched) = if allow_listed {
        (refuse, SeccompAction::Allow)
    } else {
        (SeccompAction::Allow, refuse)
    };
    let filter = SeccompFilter::new(rules, mismatch, matched, arch).ok()?;
    BpfProgram::try_from(filter).ok()
}

/// How a fork server's children come to hold their walls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walling {
    /// Each child puts up its task's walls.
    PerChild,
    /// Inherited from the fork server; each child stacks [`close_fork_server_calls`].
    Inherited(Inherited),
}

/// What a parse fork server put up around itself, for its children to inherit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inherited {
    /// Landlock enforced every restriction of the Parse rule set.
    pub landlock: bool,
}

/// Walls the parse fork server off (one thread, after its start-up, before its first
/// child): `no_new_privs`, the Parse rule set and the fork server's filter. `None` when
/// the filter could not be installed: its children then put up their walls one by one.
pub fn wall_off_fork_server(filters: &Filters) -> Option<Inherited> {
    // SAFETY: prctl with integer arguments only. Landlock and seccomp need it (the
    // privileges were renounced with it already; setting it twice is harmless).
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return None;
    }
    // Landlock first: its own calls are not in the filter.
    let landlock = landlock(Profile::Parse, &[]).unwrap_or(false);
    let filter = filters.fork_server.as_ref()?;
    seccompiler::apply_filter(filter).ok()?;
    Some(Inherited { landlock })
}

/// In a child of a walled-off parse fork server: refuses the calls only the fork server
/// needed, leaving the Parse allow-list. Returns what the child holds.
pub fn close_fork_server_calls(inherited: Inherited, filters: &Filters) -> Walls {
    let seccomp = filters
        .fork_server_only
        .as_ref()
        .is_some_and(|f| seccompiler::apply_filter(f).is_ok());
    Walls {
        landlock: inherited.landlock,
        seccomp,
    }
}

/// Puts up `profile`'s walls around this process (one thread; `no_new_privs` is set).
/// `programs` are the configured tools (which may live outside the system's folders): a
/// tools child may read and run them too. Returns what the kernel enforced.
pub fn wall_off(profile: Profile, filters: &Filters, programs: &[&Path]) -> Walls {
    let landlock = landlock(profile, programs).unwrap_or(false);
    let filter = match profile {
        Profile::Parse => filters.parse.as_ref(),
        Profile::Tools => filters.tools.as_ref(),
    };
    let seccomp = filter.is_some_and(|f| seccompiler::apply_filter(f).is_ok());
    Walls { landlock, seccomp }
}

/// Only the Landlock half of `profile`'s walls: how the tests prove that wall alone.
#[cfg(test)]
pub(super) fn landlock_only(profile: Profile) -> Walls {
    Walls {
        landlock: landlock(profile, &[]).unwrap_or(false),
        seccomp: false,
    }
}

/// Whether every Landlock restriction asked for is enforced.
fn landlock(profile: Profile, programs: &[&Path]) -> Result<bool, landlock::RulesetError> {
    let abi = LANDLOCK_ABI;
    let ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))?
        .handle_access(AccessNet::from_all(abi))?
        .scope(Scope::from_all(abi))?
        .create()?;
    let ruleset = match profile {
        Profile::Parse => ruleset,
        Profile::Tools => {
            let read = AccessFs::from_read(abi);
            // Programs, their libraries, models and fonts; never /proc (other processes'
            // environments), /home, /tmp or the data folder.
            let mut readable: Vec<PathBuf> = [
                "/usr",
                "/lib",
                "/lib64",
                "/bin",
                "/etc",
                "/var/cache/fontconfig",
                "/dev/null",
                "/dev/urandom",
            ]
            .map(PathBuf::from)
            .into();
            readable.extend(std::env::var_os("TESSDATA_PREFIX").map(PathBuf::from));
            // A tool named by its path; one found on `PATH` is in the folders above.
            readable.extend(
                programs
                    .iter()
                    .filter(|p| p.is_absolute())
                    .map(|p| p.to_path_buf()),
            );
            // A file (not a folder) takes only the rights that apply to files.
            let rules = readable.into_iter().filter_map(|path| {
                let rights = if path.is_dir() {
                    read
                } else {
                    read & AccessFs::from_file(abi)
                };
                PathFd::new(path)
                    .ok()
                    .map(|fd| Ok::<_, landlock::RulesetError>(PathBeneath::new(fd, rights)))
            });
            ruleset.add_rules(rules)?
        }
    };
    let status = ruleset.restrict_self()?;
    Ok(status.ruleset == RulesetStatus::FullyEnforced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_server_child_is_left_exactly_the_parse_calls() {
        // The child's filter refuses only what the fork server added: nothing the Parse
        // allow-list has, and no call twice.
        for call in FORK_SERVER_ONLY {
            assert!(!PARSE_ALLOWED.contains(call), "{call}");
        }
        let mut all: Vec<_> = PARSE_ALLOWED.iter().chain(FORK_SERVER_ONLY).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), PARSE_ALLOWED.len() + FORK_SERVER_ONLY.len());
        let filters = Filters::compile();
        assert!(filters.fork_server.is_some() && filters.fork_server_only.is_some());
    }
}
