//! The seccomp filters every candidate installs before running model code.
//!
//! Built with `seccompiler` (the rust-vmm/Firecracker BPF compiler) and shipped to the
//! Python runtime as raw `sock_filter` bytes. The policy is a deny-list returning an
//! errno, so ordinary Python keeps working and a blocked call surfaces as an `OSError`
//! in the candidate's own traceback rather than a mysterious kill.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::error::SandboxError;

/// Namespace flags a candidate may not pass to `clone`.
const CLONE_NAMESPACE_FLAGS: [u64; 7] = [
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWCGROUP as u64,
];

/// System calls no test program needs and every sandbox escape loves.
fn denied_outright() -> Vec<i64> {
    let mut calls = vec![
        // Reaching into other processes.
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_pidfd_getfd,
        libc::SYS_kcmp,
        // Namespaces and mounts.
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
        // Kernel attack surface.
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_name_to_handle_at,
        libc::SYS_open_by_handle_at,
        libc::SYS_fanotify_init,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_syslog,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        // Networking beyond anonymous socket pairs: no connecting, binding or addressed sends.
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_sendmsg,
        libc::SYS_sendmmsg,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_modify_ldt,
        libc::SYS_uselib,
    ]);
    calls
}

fn condition(
    arg: u8,
    len: SeccompCmpArgLen,
    op: SeccompCmpOp,
    value: u64,
) -> Result<SeccompCondition, SandboxError> {
    SeccompCondition::new(arg, len, op, value).map_err(seccomp_error)
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, SandboxError> {
    SeccompRule::new(conditions).map_err(seccomp_error)
}

fn seccomp_error(err: seccompiler::BackendError) -> SandboxError {
    SandboxError::Seccomp(err.to_string())
}

fn target_arch() -> Result<TargetArch, SandboxError> {
    std::env::consts::ARCH.try_into().map_err(|_| {
        SandboxError::Seccomp(format!("no seccomp support for {}", std::env::consts::ARCH))
    })
}

/// Rules whose verdict depends on the arguments.
fn conditional_rules() -> Result<BTreeMap<i64, Vec<SeccompRule>>, SandboxError> {
    use SeccompCmpArgLen::{Dword, Qword};
    let mut rules = BTreeMap::new();
    // Only AF_UNIX sockets (socketpair-style IPC); no IP, netlink or packet sockets.
    rules.insert(
        libc::SYS_socket,
        vec![rule(vec![condition(
            0,
            Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )?])?],
    );
    // A datagram sent to an explicit address (e.g. /dev/log) would reach a host service.
    rules.insert(
        libc::SYS_sendto,
        vec![rule(vec![condition(4, Qword, SeccompCmpOp::Ne, 0)?])?],
    );
    // No new namespaces through clone flags.
    let clone_rules = CLONE_NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            rule(vec![condition(
                0,
                Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )?])
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_clone, clone_rules);
    // Typing into the controlling terminal.
    rules.insert(
        libc::SYS_ioctl,
        vec![
            rule(vec![condition(1, Dword, SeccompCmpOp::Eq, libc::TIOCSTI)?])?,
            rule(vec![condition(
                1,
                Dword,
                SeccompCmpOp::Eq,
                libc::TIOCLINUX,
            )?])?,
        ],
    );
    // Clearing the parent-death signal would let a candidate outlive its reaper.
    rules.insert(
        libc::SYS_prctl,
        vec![rule(vec![condition(
            0,
            Dword,
            SeccompCmpOp::Eq,
            libc::PR_SET_PDEATHSIG as u64,
        )?])?],
    );
    // Execution domains other than plain Linux (and the query value) are refused.
    rules.insert(
        libc::SYS_personality,
        vec![rule(vec![
            condition(0, Dword, SeccompCmpOp::Ne, 0)?,
            condition(0, Dword, SeccompCmpOp::Ne, 0xffff_ffff)?,
        ])?],
    );
    Ok(rules)
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: u32) -> Result<BpfProgram, SandboxError> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno),
        target_arch()?,
    )
    .map_err(seccomp_error)?;
    let mut program: BpfProgram = filter.try_into().map_err(seccomp_error)?;
    guard_x32(&mut program, errno);
    Ok(program)
}

/// seccompiler matches x86-64 syscall numbers only; x32 numbers (bit 30 set) would slip
/// past a deny-list on kernels built with x32 support, so they are refused right after
/// the architecture check.
#[cfg(target_arch = "x86_64")]
fn guard_x32(program: &mut BpfProgram, errno: u32) {
    use seccompiler::sock_filter;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    // The first three instructions validate the architecture.
    let guard = [
        sock_filter {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        }, // ld [nr]
        sock_filter {
            code: 0x35,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        }, // jge x32 → deny
        sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | errno,
        },
    ];
    program.splice(3..3, guard);
}

#[cfg(not(target_arch = "x86_64"))]
fn guard_x32(_program: &mut BpfProgram, _errno: u32) {}

/// The candidate's filters, as the raw bytes of consecutive `sock_filter` programs.
///
/// Two programs: the deny-list (EPERM) and `clone3` (ENOSYS, so that libc falls back to
/// `clone`, whose flags the first program can inspect).
pub fn candidate_filters() -> Result<Vec<Vec<u8>>, SandboxError> {
    let mut deny = conditional_rules()?;
    for nr in denied_outright() {
        deny.insert(nr, vec![]);
    }
    let clone3 = BTreeMap::from([(libc::SYS_clone3, vec![])]);
    Ok(vec![
        to_bytes(&compile(deny, libc::EPERM as u32)?),
        to_bytes(&compile(clone3, libc::ENOSYS as u32)?),
    ])
}

fn to_bytes(program: &BpfProgram) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(program.len() * 8);
    for ins in program {
        bytes.extend_from_slice(&ins.code.to_ne_bytes());
        bytes.push(ins.jt);
        bytes.push(ins.jf);
        bytes.extend_from_slice(&ins.k.to_ne_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_to_whole_instructions() {
        let filters = candidate_filters().unwrap();
        assert_eq!(filters.len(), 2);
        for f in &filters {
            assert!(!f.is_empty());
            assert_eq!(f.len() % 8, 0);
            assert!(
                f.len() / 8 < 4096,
                "BPF programs are limited to 4096 instructions"
            );
        }
    }
}
