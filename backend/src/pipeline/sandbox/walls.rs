//! The walls a parser child puts up before it reads a document: a Landlock rule set and
//! a seccomp filter. Both are inherited by everything the child starts and can never be
//! lifted.
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
//! A refused call fails with `EPERM` (seccomp) or `EACCES` (Landlock): the parser sees an
//! error, and the document fails with a reason; the process is not killed for trying.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use nix::libc;
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
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

/// The two profiles' filters, compiled once (in the fork server, before any child).
pub struct Filters {
    parse: Option<BpfProgram>,
    tools: Option<BpfProgram>,
}

impl Filters {
    /// Compiles both filters; `None` for this machine's architecture if seccompiler does
    /// not know it (the child then reports seccomp as not enforced).
    pub fn compile() -> Self {
        let build = |calls: &[libc::c_long], allow_listed: bool| -> Option<BpfProgram> {
            let arch = TargetArch::try_from(std::env::consts::ARCH).ok()?;
            let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
                calls.iter().map(|c| (*c, Vec::new())).collect();
            let refuse = SeccompAction::Errno(libc::EPERM as u32);
            let (mismatch, matched) = if allow_listed {
                (refuse, SeccompAction::Allow)
            } else {
                (SeccompAction::Allow, refuse)
            };
            let filter = SeccompFilter::new(rules, mismatch, matched, arch).ok()?;
            BpfProgram::try_from(filter).ok()
        };
        Self {
            parse: build(PARSE_ALLOWED, true),
            tools: build(TOOLS_REFUSED, false),
        }
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
