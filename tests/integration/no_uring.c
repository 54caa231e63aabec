// no_uring: run a command with io_uring_setup(2) made to fail, as in containers whose seccomp
// profile blocks io_uring or hosts with kernel.io_uring_disabled set.
//
//   no_uring [--errno=EPERM|ENOSYS|ENOMEM] COMMAND [ARG...]
//
// Installs a seccomp filter (after PR_SET_NO_NEW_PRIVS, so no privilege is needed) that answers
// io_uring_setup with the chosen errno (EPERM by default) and allows every other system call,
// then execvp()s COMMAND. Exit status 127 if the filter or the exec fails.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NO_URING_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NO_URING_ARCH AUDIT_ARCH_AARCH64
#else
#error "no_uring: add the AUDIT_ARCH_* value for this architecture"
#endif

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425 // the same number on every architecture since Linux 5.1
#endif

static int parse_errno(const char* name) {
    if (strcmp(name, "EPERM") == 0) return EPERM;
    if (strcmp(name, "ENOSYS") == 0) return ENOSYS;
    if (strcmp(name, "ENOMEM") == 0) return ENOMEM;
    if (strcmp(name, "EACCES") == 0) return EACCES;
    return -1;
}

int main(int argc, char** argv) {
    int err = EPERM;
    int i = 1;
    if (i < argc && strncmp(argv[i], "--errno=", 8) == 0) {
        err = parse_errno(argv[i] + 8);
        if (err < 0) {
            fprintf(stderr, "no_uring: unknown errno name '%s'\n", argv[i] + 8);
            return 127;
        }
        ++i;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: no_uring [--errno=EPERM|ENOSYS|ENOMEM|EACCES] COMMAND [ARG...]\n");
        return 127;
    }

    struct sock_filter filter[] = {
        // Another ABI (e.g. a 32-bit syscall entry): not ours to judge, allow it.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NO_URING_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = (unsigned short)(sizeof filter / sizeof filter[0]),
        .filter = filter,
    };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("no_uring: prctl(PR_SET_NO_NEW_PRIVS)");
        return 127;
    }
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("no_uring: seccomp(SECCOMP_SET_MODE_FILTER)");
        return 127;
    }
    execvp(argv[i], argv + i);
    fprintf(stderr, "no_uring: exec %s: %s\n", argv[i], strerror(errno));
    return 127;
}
