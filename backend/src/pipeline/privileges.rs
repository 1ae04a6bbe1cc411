//! What a parser process gives up before it reads any input: the server's environment,
//! working directory, user (when that is root) and every capability, with no way back.
//!
//! The environment is chosen by the server when it starts the process ([`child_env`]);
//! the rest the process does to itself first thing ([`renounce`]), while it is still one
//! thread (capabilities and `no_new_privs` are per thread and only inherited by threads
//! started later). The OCR and rendering programs it starts inherit all of it.
//!
//! The fork server does this once; each child it forks then puts up its own walls
//! (Landlock and seccomp, [`super::sandbox::walls`]), which keep a parser running as the
//! server's own (non-root) user away from that user's files, such as the data folder.

use std::ffi::OsString;

/// The user and group a parser started by root runs as (`nobody`/`nogroup`).
const NOBODY: u32 = 65534;

/// The parent's variables a parser or the tools it runs read. Everything else (cloud
/// credentials, database URLs, keys) stays with the server.
///
/// `PATH` finds `tesseract` and `pdftoppm`; `TMPDIR` is where pages are rendered;
/// `TESSDATA_PREFIX` is where Tesseract's models are, when not in its default place.
const PASSED_THROUGH: &[&str] = &["PATH", "TMPDIR", "TESSDATA_PREFIX"];

/// The environment of a parser process, from the server's own `vars`.
pub fn child_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vars
        .into_iter()
        .filter(|(name, _)| PASSED_THROUGH.iter().any(|p| name == p))
        .collect();
    // mimalloc reserves 1 GiB of address space up front by default, which the
    // address-space limit would refuse.
    env.push(("MIMALLOC_ARENA_RESERVE".into(), "64MiB".into()));
    env
}

/// The names a parser process's environment may hold.
pub fn allowed_names() -> impl Iterator<Item = &'static str> {
    PASSED_THROUGH
        .iter()
        .copied()
        .chain(std::iter::once("MIMALLOC_ARENA_RESERVE"))
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// `struct __user_cap_header_struct` of <linux/capability.h>.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two `CapData`.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Gives this process up to nothing: call while it is the only thread, before it reads
/// input. Fails (and the parser with it) if any step the kernel allows is refused.
pub fn renounce() -> Result<(), String> {
    use nix::libc;
    // Relative paths then name nothing of the server's (its data folder is often the
    // working directory).
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))?;
    // The bounding set first: emptying it needs CAP_SETPCAP, which the steps below take
    // away. Without CAP_SETPCAP (a server not run as root) the set cannot be emptied, and
    // need not be: with no capabilities and no_new_privs, nothing the parser runs can
    // gain one.
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                // Past the kernel's last capability.
                Some(libc::EINVAL) => break,
                Some(libc::EPERM) => break,
                _ => return Err(os_error("dropping the capability bounding set")),
            }
        }
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    } != 0
        // Kernels before 4.3 have no ambient set, so nothing to clear.
        && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL)
    {
        return Err(os_error("clearing the ambient capabilities"));
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // Root owns the server's files; `nobody` owns none of them.
        // SAFETY: setgroups reads zero entries from a null pointer; the set*id calls take
        // integers. glibc applies them to every thread (there is one).
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0 {
                return Err(os_error("dropping the supplementary groups"));
            }
            if libc::setresgid(NOBODY, NOBODY, NOBODY) != 0 {
                return Err(os_error("switching to group nogroup"));
            }
            if libc::setresuid(NOBODY, NOBODY, NOBODY) != 0 {
                return Err(os_error("switching to user nobody"));
            }
        }
    }
    // Effective, permitted and inheritable: empty (root's were emptied by the switch
    // above; a non-root server's binary may carry file capabilities).
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: capset reads the header and two data structs, which live across the call.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(os_error("clearing the capabilities"));
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(os_error("setting no_new_privs"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_variables_pass() {
        let parent = [
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("DOCINTEL_DATABASE_URL", "postgres://u:pw@db/docintel"),
            ("PATH", "/usr/bin:/bin"),
            ("TESSDATA_PREFIX", "/opt/tessdata"),
            ("MIMALLOC_ARENA_RESERVE", "1GiB"),
            ("HOME", "/root"),
        ]
        .map(|(n, v)| (OsString::from(n), OsString::from(v)));
        let env = child_env(parent);
        let names: Vec<_> = env.iter().map(|(n, _)| n.to_str().unwrap()).collect();
        assert_eq!(
            names,
            ["PATH", "TESSDATA_PREFIX", "MIMALLOC_ARENA_RESERVE"],
            "{env:?}"
        );
        // The parser's own setting, not the server's.
        assert_eq!(env[2].1, "64MiB");
        assert!(names.iter().all(|n| allowed_names().any(|a| a == *n)));
    }
}
