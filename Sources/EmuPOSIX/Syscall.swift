import CEmuShims
import Glibc
import SystemPackage

/// Runs a libc call that reports failure as -1 and the reason in `errno`,
/// retrying it on EINTR when that is safe (never for close(2)).
@inline(__always)
func valueOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<I, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno(rawValue: errno)
        if retryOnInterrupt && error == .interrupted { continue }
        return .failure(error)
    }
}

/// A failed filesystem call: what was attempted, on which path, and why.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: [UInt8]
    public let errno: Errno

    public init(_ operation: String, _ path: [UInt8], _ errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(Printable.path(path)): \(errno.description)"
    }
}

/// What an errno means to emu, said once: callers ask these rather than
/// compare errno values in their catches.
extension FileSystemError {
    /// ENOENT: the name is not there (any more).
    public var isMissing: Bool { errno == .noSuchFileOrDirectory }
    /// EEXIST: the name is taken.
    public var alreadyExists: Bool { errno == .fileExists }
    /// EMLINK: the inode has as many names as the filesystem allows.
    public var isAtLinkLimit: Bool { errno == .tooManyLinks }
    /// EPERM: not for this user (ownership, device nodes, immutable files).
    public var isNotPermitted: Bool { errno == .notPermitted }
    /// EINVAL: the call does not take these arguments here (a flag the filesystem lacks, an owner it cannot map).
    public var isInvalidArgument: Bool { errno == .invalidArgument }
    /// ENOSPC: the filesystem is full.
    public var isOutOfSpace: Bool { errno == .noSpace }
    /// EROFS.
    public var isReadOnlyFileSystem: Bool { errno == .readOnlyFileSystem }
    /// ENOTSUP (= EOPNOTSUPP on Linux) or EPERM: a filesystem or an attribute
    /// namespace that does not take this (xattrs on some filesystems,
    /// `trusted.*` as a user); emu goes on without it.
    public var isUnsupported: Bool { errno == .notSupported || errno == .notSupportedOnSocket || errno == .notPermitted }
}

extension Result where Failure == Errno {
    /// Attaches the operation and path to a failure, keeping the errno.
    @inline(__always)
    func get(_ operation: String, _ path: @autoclosure () -> [UInt8]) throws -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw FileSystemError(operation, path(), error)
        }
    }
}
