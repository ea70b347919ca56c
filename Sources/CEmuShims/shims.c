#define _GNU_SOURCE
#include "CEmuShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>

#include <attr/libattr.h>
#include <sys/acl.h>
#include <acl/libacl.h>

int emu_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return openat(dirfd, path, flags, mode);
}

ssize_t emu_getdents64(int fd, void *buf, size_t count) {
    return syscall(SYS_getdents64, fd, buf, count);
}

int emu_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

ssize_t emu_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len) {
    loff_t in = off_in ? *off_in : 0, out = off_out ? *off_out : 0;
    ssize_t n = syscall(SYS_copy_file_range, fd_in, off_in ? &in : NULL, fd_out, off_out ? &out : NULL, len, 0);
    if (off_in) *off_in = in;
    if (off_out) *off_out = out;
    return n;
}

int emu_syncfs(int fd) { return syncfs(fd); }

int emu_ficlone(int dst, int src) { return ioctl(dst, FICLONE, src); }

struct emu_linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int emu_dirent_at(const void *buf, size_t available, emu_dirent *out) {
    const struct emu_linux_dirent64 *d = buf;
    size_t header = offsetof(struct emu_linux_dirent64, d_name);
    if (available < header || d->d_reclen < header || d->d_reclen > available) return -1;
    out->ino = d->d_ino;
    out->type = d->d_type;
    out->name = d->d_name;
    out->name_length = strnlen(d->d_name, d->d_reclen - header);
    out->record_length = d->d_reclen;
    return 0;
}

dev_t emu_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }
unsigned int emu_major(dev_t dev) { return major(dev); }
unsigned int emu_minor(dev_t dev) { return minor(dev); }

const int EMU_O_PATH = O_PATH;
const int EMU_O_NOATIME = O_NOATIME;
const int EMU_O_DIRECTORY = O_DIRECTORY;
const int EMU_O_NOFOLLOW = O_NOFOLLOW;
const int EMU_O_TMPFILE = O_TMPFILE;
const int EMU_O_CLOEXEC = O_CLOEXEC;
const int EMU_AT_SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
const int EMU_AT_REMOVEDIR = AT_REMOVEDIR;
const unsigned int EMU_RENAME_NOREPLACE = RENAME_NOREPLACE;
const unsigned int EMU_RENAME_EXCHANGE = RENAME_EXCHANGE;
const int EMU_SEEK_DATA = SEEK_DATA;
const int EMU_SEEK_HOLE = SEEK_HOLE;
const long EMU_UTIME_OMIT = UTIME_OMIT;

/// Spawn attributes that start a child with no signal blocked, whatever this
/// process blocks (emu blocks SIGINT and SIGTERM in every thread but the one
/// that waits for them during a push): a hook, ssh or sshfs must hear them.
static void emu_clean_signal_mask(posix_spawnattr_t *attributes) {
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_init(attributes);
    posix_spawnattr_setsigmask(attributes, &none);
    posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGMASK);
}

int emu_wait(int pid);

/* Waits for `pid` at most `seconds` (0: for ever). Past that it is ended
   (SIGTERM, then SIGKILL a second later: ssh blocks SIGTERM while its
   ProxyCommand connects) and -1 is returned with errno ETIMEDOUT. */
static int emu_wait_within(pid_t pid, int seconds) {
    if (seconds <= 0) return emu_wait(pid);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status, signal_sent = 0;
    for (;;) {
        pid_t ended = waitpid(pid, &status, WNOHANG);
        if (ended == pid) return signal_sent ? (errno = ETIMEDOUT, -1) : status;
        if (ended < 0 && errno != EINTR) return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if (waited > seconds && signal_sent == 0) { kill(pid, SIGTERM); signal_sent = 1; }
        if (waited > seconds + 1 && signal_sent == 1) { kill(pid, SIGKILL); signal_sent = 2; }
        usleep(5000);
    }
}

int emu_spawn_and_wait(const char *path, char *const argv[], char *const envp[], const char *cwd, int output, int timeout_seconds) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, cwd);
    if (output >= 0) {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, output, 1);
        posix_spawn_file_actions_adddup2(&actions, output, 2);
        // A daemon it leaves behind holds nothing of ours open (a parent's
        // pipe or socket whose end says this process is done).
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    }
    pid_t pid;
    posix_spawnattr_t attributes;
    emu_clean_signal_mask(&attributes);
    int rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) { errno = rc; return -1; }
    return emu_wait_within(pid, timeout_seconds);
}

int emu_xattr_should_copy(const char *name) {
    return attr_copy_check_permissions(name, NULL);
}

int emu_acl_copy_access_fd(int src_fd, int dst_fd) {
    acl_t acl = acl_get_fd(src_fd);
    if (acl == NULL) return -1;
    int rc = acl_set_fd(dst_fd, acl);
    int saved = errno;
    acl_free(acl);
    errno = saved;
    return rc;
}

int emu_acl_copy_default(const char *src_path, const char *dst_path) {
    acl_t acl = acl_get_file(src_path, ACL_TYPE_DEFAULT);
    if (acl == NULL) return -1;
    int rc = acl_entries(acl) > 0 ? acl_set_file(dst_path, ACL_TYPE_DEFAULT, acl) : 0;
    int saved = errno;
    acl_free(acl);
    errno = saved;
    return rc;
}

int emu_acl_set_access_text(int fd, const char *text) {
    acl_t acl = acl_from_text(text);
    if (acl == NULL) return -1;
    int rc = acl_set_fd(fd, acl);
    int saved = errno;
    acl_free(acl);
    errno = saved;
    return rc;
}

int emu_acl_set_default_text(const char *path, const char *text) {
    if (text[0] == '\0') return acl_delete_def_file(path);
    acl_t acl = acl_from_text(text);
    if (acl == NULL) return -1;
    int rc = acl_set_file(path, ACL_TYPE_DEFAULT, acl);
    int saved = errno;
    acl_free(acl);
    errno = saved;
    return rc;
}

static char *text_of(acl_t acl, int options) {
    if (acl == NULL) return NULL;
    char *text = acl_to_any_text(acl, NULL, ',', options);
    int saved = errno;
    acl_free(acl);
    if (text == NULL) { errno = saved; return NULL; }
    char *copy = strdup(text);
    acl_free(text);
    return copy;
}

char *emu_acl_access_text(int fd) { return text_of(acl_get_fd(fd), TEXT_ABBREVIATE); }
char *emu_acl_default_text(const char *path) { return text_of(acl_get_file(path, ACL_TYPE_DEFAULT), TEXT_ABBREVIATE); }

char *emu_acl_archive_text(const char *path, int is_default) {
    return text_of(acl_get_file(path, is_default ? ACL_TYPE_DEFAULT : ACL_TYPE_ACCESS), TEXT_NUMERIC_IDS);
}

extern char **environ;

int emu_start_pager(const char *command) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid;
    posix_spawnattr_t attributes;
    emu_clean_signal_mask(&attributes);
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    if (rc != 0) { close(fds[1]); errno = rc; return -1; }
    fflush(stdout);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    return pid;
}

void emu_finish_pager(int pid) {
    fflush(stdout);
    close(STDOUT_FILENO);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

int emu_widen_pipe(int fd) {
    // 1 MiB, what /proc/sys/fs/pipe-max-size lets any user ask for by default.
    return fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

int emu_spawn_piped(const char *file, char *const argv[], int *to_child, int *from_child) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0) return -1;
    if (pipe2(out, O_CLOEXEC) < 0) { close(in[0]); close(in[1]); return -1; }
    emu_widen_pipe(in[1]);
    emu_widen_pipe(out[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    extern char **environ;
    pid_t pid;
    posix_spawnattr_t attributes;
    emu_clean_signal_mask(&attributes);
    int rc = posix_spawnp(&pid, file, &actions, &attributes, argv, environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) { close(in[1]); close(out[0]); errno = rc; return -1; }
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

int emu_wait(int pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}
