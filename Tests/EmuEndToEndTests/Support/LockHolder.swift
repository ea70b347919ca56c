import Foundation
import Glibc
import Testing

/// Another process holding a lock file's exclusive flock, as a second emu
/// would: the initializer returns only once the holder says it holds it, so a
/// test never assumes a lock that a slow machine had not taken yet. The lock
/// is held until `release()` (or the end of the test). Started with
/// posix_spawn, as `SSHServer` is: Foundation's `Process` stalls other
/// children's waits while a long-lived one runs.
final class LockHolder {
    private var pid: pid_t = 0

    /// `shared`: a reader's lock, as `emu diff` holds on `.emu/nodes` (a
    /// directory: opened read-only, as anything is).
    init(_ lockFile: String, shared: Bool = false) throws {
        let held = NSTemporaryDirectory() + "emu-lock-held-\(getpid())-\(UUID().uuidString)"
        let opening = shared ? "os.open(sys.argv[1], os.O_RDONLY)" : "open(sys.argv[1], 'a')"
        let arguments = ["/usr/bin/python3", "-c", "import fcntl, os, sys, time; f = \(opening); "
                            + "fcntl.flock(f, fcntl.LOCK_\(shared ? "SH" : "EX")); open(sys.argv[2], 'w').close(); time.sleep(3600)", lockFile, held]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, arguments[0], nil, nil, argv, environ) == 0 else { throw HolderFailed(lockFile: lockFile) }
        defer { unlink(held) }
        // A bound against a hang only: taking a free lock takes milliseconds.
        for _ in 0..<3000 {
            if access(held, F_OK) == 0 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { pid = 0; break }
            usleep(20_000)
        }
        release()
        throw HolderFailed(lockFile: lockFile)
    }

    deinit { release() }

    /// Ends the holder: the kernel drops its lock.
    func release() {
        guard pid != 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    struct HolderFailed: Error, CustomStringConvertible {
        var lockFile: String
        var description: String { "the lock holder never took \(lockFile)" }
    }
}
