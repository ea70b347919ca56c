// C helpers for what Swift cannot import cleanly from glibc: variadic or
// macro-only interfaces, _GNU_SOURCE constants, and the libacl/libattr headers.
#ifndef CEMUSHIMS_H
#define CEMUSHIMS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>

/// openat(2) with an explicit mode: Swift cannot call the variadic C function.
int emu_openat(int dirfd, const char *path, int flags, mode_t mode);

/// getdents64(2): glibc has no wrapper in older releases; raw records into buf.
ssize_t emu_getdents64(int fd, void *buf, size_t count);

/// renameat2(2) with RENAME_NOREPLACE / RENAME_EXCHANGE flags.
int emu_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// copy_file_range(2), through syscall(2) so it works with any glibc.
ssize_t emu_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len);

/// syncfs(2): flush every dirty page of the filesystem that holds fd.
int emu_syncfs(int fd);

/// ioctl(FICLONE): makes dst share all of src's extents (a reflink), on
/// filesystems that can (xfs with reflink, btrfs); -1 with errno otherwise.
int emu_ficlone(int dst, int src);

/// Decoded fields of one linux_dirent64 record.
typedef struct {
    uint64_t ino;
    unsigned char type;
    const char *name;
    size_t name_length;
    size_t record_length;
} emu_dirent;

/// Reads the record at buf; returns 0 or -1 when the record is malformed.
int emu_dirent_at(const void *buf, size_t available, emu_dirent *out);

/// makedev/major/minor are macros in glibc.
dev_t emu_makedev(unsigned int major, unsigned int minor);
unsigned int emu_major(dev_t dev);
unsigned int emu_minor(dev_t dev);

// Flags and constants that are macros or need _GNU_SOURCE.
extern const int EMU_O_PATH;
extern const int EMU_O_NOATIME;
extern const int EMU_O_DIRECTORY;
extern const int EMU_O_NOFOLLOW;
extern const int EMU_O_CLOEXEC;
extern const int EMU_O_TMPFILE;
extern const int EMU_AT_SYMLINK_NOFOLLOW;
extern const int EMU_AT_REMOVEDIR;
extern const unsigned int EMU_RENAME_NOREPLACE;
extern const unsigned int EMU_RENAME_EXCHANGE;
extern const int EMU_SEEK_DATA;
extern const int EMU_SEEK_HOLE;
extern const long EMU_UTIME_OMIT;

/// Runs the program at `path` with `argv` and `envp` in directory `cwd`
/// (posix_spawn), waits for it, and returns its wait status, or -1 with errno.
/// With `output` >= 0, its stdout and stderr go there, its stdin is /dev/null,
/// and it inherits no other descriptor. With `timeout_seconds` > 0, a program
/// still running then is ended (SIGTERM, then SIGKILL) and -1 returned with ETIMEDOUT.
int emu_spawn_and_wait(const char *path, char *const argv[], char *const envp[], const char *cwd, int output, int timeout_seconds);
/// Gives the pipe `fd` is an end of a 1 MiB buffer (F_SETPIPE_SZ): emu and ssh then hand each other
/// the protocol's 256 KiB writes without waiting for every 64 KiB. -1 with errno where `fd` is no pipe.
int emu_widen_pipe(int fd);
/// Starts `file` (searched in PATH) with pipes to its stdin and from its stdout, widened; returns its pid, or -1 with errno.
int emu_spawn_piped(const char *file, char *const argv[], int *to_child, int *from_child);
/// waitpid(2), retried on EINTR; the raw status, or -1.
int emu_wait(int pid);
/// Starts `/bin/sh -c command` reading from a pipe that then replaces this
/// process's stdout (a pager, as git starts one); returns its pid, or -1.
int emu_start_pager(const char *command);
/// Closes stdout (the pager's input) and waits for the pager to exit.
void emu_finish_pager(int pid);

// --- libattr ---------------------------------------------------------------

/// attr_copy_check_permissions(3): whether xattr `name` is plain data to copy
/// (1), or skipped by /etc/xattr.conf or handled as permissions (0), e.g. ACLs.
int emu_xattr_should_copy(const char *name);

// --- libacl ----------------------------------------------------------------

/// Copies the access ACL of src_fd onto dst_fd (acl_get_fd/acl_set_fd).
/// Returns 0, or -1 with errno.
int emu_acl_copy_access_fd(int src_fd, int dst_fd);

/// Copies the default ACL of directory src_path onto dst_path
/// (acl_get_file/acl_set_file with ACL_TYPE_DEFAULT). 0, or -1 with errno.
int emu_acl_copy_default(const char *src_path, const char *dst_path);

/// Sets the access ACL of fd from its text form (acl_from_text/acl_set_fd).
int emu_acl_set_access_text(int fd, const char *text);
/// Sets the default ACL of a directory path from text; "" deletes it.
int emu_acl_set_default_text(const char *path, const char *text);
/// The short text form of fd's access ACL (caller frees), NULL with errno on failure.
char *emu_acl_access_text(int fd);
/// The short text form of path's default ACL (caller frees), NULL on failure.
char *emu_acl_default_text(const char *path);
/// The ACL of path (default: the directory's default ACL) in the long form
/// with numeric ids, entries separated by commas, as tar archives keep it
/// (caller frees); NULL with errno on failure.
char *emu_acl_archive_text(const char *path, int is_default);

/// The C library's buffered stdout, which Swift's `print` shares (Swift 6
/// refuses the global `stdout` as shared mutable state).
static inline size_t emu_write_standard_output(const void *bytes, size_t count) {
    return fwrite(bytes, 1, count, stdout);
}

#endif
