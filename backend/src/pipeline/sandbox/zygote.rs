//! The fork server: the process `<program> __parse` becomes. Started once by the server,
//! it gives up its privileges, loads and warms the parsers, compiles the walls' filters,
//! walls itself off if it is the parse fork server (its children inherit the walls), and
//! then, staying one thread, forks a fresh child for every document the server asks
//! for. A child is a copy of a warmed process (no `exec`, no loading), parses its one
//! document behind its walls and exits; nothing of it survives into the next.
//!
//! Protocol, on the `SOCK_SEQPACKET` socket the server hands over as standard input: each
//! message is one byte with four descriptors attached — the child's stdin, stdout and
//! stderr, and a status pipe. On the status pipe the fork server writes the child's pid
//! (4 bytes, little endian) once it is forked, and its raw wait status (4 bytes) once it
//! has ended; then it closes it. A closed control socket (the server is gone) ends the
//! fork server, and with it (`PR_SET_PDEATHSIG`) every child still running.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

use super::walls::{self, Filters, Walling};

/// Descriptors attached to one request: stdin, stdout, stderr, status.
const FDS: usize = 4;

/// Runs the fork server on the control socket `control` (fd 0). Returns when the server
/// closes it; a child never returns from here (it exits). `parse`: the parse fork server,
/// whose children all take the Parse walls, puts them up around itself before its first
/// child.
pub(super) fn serve_forks(filters: &Filters, parse: bool) -> Result<(), String> {
    // SAFETY: fd 0 is the control socket the server started this process with; nothing
    // else in this process owns it.
    let control = unsafe { OwnedFd::from_raw_fd(0) };
    let threads = std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count());
    if threads != 1 {
        // fork copies only the calling thread: a lock held by another one would never be
        // released in the child.
        return Err(format!(
            "the fork server must be one thread, it has {threads}"
        ));
    }
    // Children's ends are reported on a descriptor, not by a handler.
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    chld.thread_block()
        .map_err(|e| format!("blocking SIGCHLD: {e}"))?;
    let sigfd = SignalFd::with_flags(&chld, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("signalfd: {e}"))?;
    // The status pipes of children still running, by pid.
    let mut running: HashMap<libc::pid_t, OwnedFd> = HashMap::new();
    // Last: from here on the process reads no file and opens nothing.
    let walling = if parse {
        match walls::wall_off_fork_server(filters) {
            Some(inherited) => Walling::Inherited(inherited),
            None => {
                eprintln!(
                    "docintel parser: the fork server could not wall itself off; each child \
                     puts up its own walls"
                );
                Walling::PerChild
            }
        }
    } else {
        Walling::PerChild
    };
    loop {
        let mut fds = [
            PollFd::new(control.as_fd(), PollFlags::POLLIN),
            PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        let (request, ended) = (fds[0].revents(), fds[1].revents());
        if ended.is_some_and(|r| !r.is_empty()) {
            while sigfd.read_signal().ok().flatten().is_some() {}
            reap(&mut running);
        }
        if request.is_some_and(|r| !r.is_empty()) {
            match receive(control.as_raw_fd()) {
                Ok(Some(fds)) => fork_one(fds, &mut running, filters, walling, &chld),
                // The server closed its end: it has stopped.
                Ok(None) => return Ok(()),
                Err(e) => return Err(format!("reading a request: {e}")),
            }
        }
    }
}

/// One request's descriptors; `None` at end of stream. A message without its four
/// descriptors is dropped (and they are closed).
fn receive(control: RawFd) -> nix::Result<Option<[OwnedFd; FDS]>> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; FDS]);
    let msg = recvmsg::<()>(
        control,
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    if msg.bytes == 0 {
        return Ok(None);
    }
    let mut received = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel just installed these descriptors in this process.
            received.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok(<[OwnedFd; FDS]>::try_from(received).ok())
}

fn fork_one(
    [stdin, stdout, stderr, status]: [OwnedFd; FDS],
    running: &mut HashMap<libc::pid_t, OwnedFd>,
    filters: &Filters,
    walling: Walling,
    blocked: &SigSet,
) {
    // SAFETY: this process is one thread (checked at start), so the child's copy of every
    // lock is free; the child only calls async-signal-safe functions until it has set
    // itself up, then runs the parser as a fresh single-threaded process would.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let code = become_child(stdin, stdout, stderr, filters, walling, blocked);
            // SAFETY: _exit ends the process without running the fork server's exit
            // handlers (they are not this child's).
            unsafe { libc::_exit(code) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            // Also done by the child: whichever runs first, the group exists before the
            // server can be told the pid (and kill the group).
            let _ = nix::unistd::setpgid(child, child);
            let _ = nix::unistd::write(&status, &child.as_raw().to_le_bytes());
            running.insert(child.as_raw(), status);
        }
        // No child: the closed status pipe tells the server.
        Err(e) => eprintln!("docintel fork server: fork: {e}"),
    }
}

/// Reaps every ended child and reports its status on its pipe.
fn reap(running: &mut HashMap<libc::pid_t, OwnedFd>) {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return;
        }
        if let Some(pipe) = running.remove(&pid) {
            let _ = nix::unistd::write(&pipe, &status.to_le_bytes());
        }
    }
}

/// In the forked child: takes the three descriptors as stdin, stdout and stderr, closes
/// every other one (the control socket, other children's status pipes), stacks its filter
/// on the inherited walls if there are any, and parses.
fn become_child(
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    filters: &Filters,
    walling: Walling,
    blocked: &SigSet,
) -> i32 {
    // SAFETY: prctl, getppid, dup2 and close_range take integers; this process is one
    // thread.
    unsafe {
        // Dies with the fork server; if that already happened, do nothing.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() == 1 {
            return 3;
        }
        let _ = libc::setpgid(0, 0);
        for (fd, target) in [(&stdin, 0), (&stdout, 1), (&stderr, 2)] {
            if libc::dup2(fd.as_raw_fd(), target) < 0 {
                return 3;
            }
        }
        std::mem::forget((stdin, stdout, stderr));
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            return 3;
        }
    }
    let _ = blocked.thread_unblock();
    // Before the request is read: from here the child can make only the Parse calls.
    let held = match walling {
        Walling::Inherited(inherited) => Some(walls::close_fork_server_calls(inherited, filters)),
        Walling::PerChild => None,
    };
    super::child::parse_one(filters, held)
}
