/*
 * The floor for emu's benchmarks: only the system calls a hardlinked
 * snapshot cannot avoid. No manifest, no hashing, no metadata beyond mtimes.
 *
 *   floor push SRC PREV NEW   walk SRC by fd (getdents64, fstatat); a file
 *                             whose size and mtime match PREV's copy is
 *                             linkat-ed from it (two stats and a link),
 *                             anything else copied with copy_file_range;
 *                             PREV "-" copies everything.
 *   floor restore TREE DEST   copy a tree (mkdirat, copy_file_range).
 *
 * `floor --durable push|restore ...` ends with syncfs on NEW or DEST: the
 * durable floor. emu promises that a snapshot is on disk when it appears;
 * rsync and cp promise nothing, so emu is compared with both floors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };

static void die(const char *what, const char *name) { fprintf(stderr, "floor: %s %s: %s\n", what, name, strerror(errno)); exit(1); }

/* Copies in the kernel; between filesystems where the kernel will not, by read and write. */
static void copy_bytes(int in, int out, const char *name) {
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0) return;
        if (n > 0) continue;
        if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP) break;
        die("copy", name);
    }
    static char buffer[1 << 20];
    for (;;) {
        ssize_t n = read(in, buffer, sizeof buffer);
        if (n < 0) die("read", name);
        if (n == 0) return;
        for (ssize_t done = 0; done < n;) {
            ssize_t written = write(out, buffer + done, n - done);
            if (written < 0) die("write", name);
            done += written;
        }
    }
}

static void copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st) {
    int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) die("open", name);
    int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
    if (out < 0) die("create", name);
    copy_bytes(in, out, name);
    struct timespec times[2] = {{0, UTIME_OMIT}, st->st_mtim};
    futimens(out, times);
    close(in);
    close(out);
}

static void walk(int src, int prev, int dst) {
    char buffer[1 << 16];
    for (;;) {
        long n = syscall(SYS_getdents64, src, buffer, sizeof buffer);
        if (n < 0) die("getdents64", "");
        if (n == 0) break;
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buffer + offset);
            offset += d->d_reclen;
            const char *name = d->d_name;
            if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".emu")) continue;
            struct stat st;
            if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) die("stat", name);
            if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dst, name, st.st_mode & 07777) < 0) die("mkdir", name);
                int child = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int child_dst = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int child_prev = prev < 0 ? -1 : openat(prev, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 || child_dst < 0) die("open directory", name);
                walk(child, child_prev, child_dst);
                close(child);
                close(child_dst);
                if (child_prev >= 0) close(child_prev);
            } else if (S_ISREG(st.st_mode)) {
                struct stat old;
                if (prev >= 0 && fstatat(prev, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && old.st_size == st.st_size
                    && old.st_mtim.tv_sec == st.st_mtim.tv_sec && old.st_mtim.tv_nsec == st.st_mtim.tv_nsec
                    && linkat(prev, name, dst, name, 0) == 0)
                    continue;
                copy_file(src, dst, name, &st);
            } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t length = readlinkat(src, name, target, sizeof target - 1);
                if (length < 0) die("readlink", name);
                target[length] = 0;
                if (symlinkat(target, dst, name) < 0) die("symlink", name);
            }
        }
    }
}

static int open_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die("open", path);
    return fd;
}

int main(int argc, char **argv) {
    int durable = argc > 1 && !strcmp(argv[1], "--durable");
    argc -= durable;
    argv += durable;
    const char *target = NULL;
    if (argc == 5 && !strcmp(argv[1], "push")) {
        target = argv[4];
        if (mkdir(target, 0755) < 0) die("mkdir", target);
        walk(open_dir(argv[2]), strcmp(argv[3], "-") ? open_dir(argv[3]) : -1, open_dir(target));
    } else if (argc == 4 && !strcmp(argv[1], "restore")) {
        target = argv[3];
        if (mkdir(target, 0755) < 0) die("mkdir", target);
        walk(open_dir(argv[2]), -1, open_dir(target));
    } else {
        fprintf(stderr, "usage: floor [--durable] push SRC PREV|- NEW | floor [--durable] restore TREE DEST\n");
        return 2;
    }
    if (durable && syncfs(open_dir(target)) < 0) die("syncfs", target);
    return 0;
}
