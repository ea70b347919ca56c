import CEmuShims
import Glibc
import SystemPackage

/// Runs a libc call that reports failure as -1 and the reason in `errno`,
/// retrying it on EINTR when that is safe (never for close(2)). Every call
/// of the POSIX layer goes through here, so a test can make one fail
/// before the kernel is asked (`InjectedFaults`, the idea of swift-system's
/// mocking driver).
@inline(__always)
func systemCall<I: FixedWidthInteger>(
    _ operation: String, _ path: @autoclosure () -> [UInt8], _ origin: Origin = .unspecified,
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<I, FileSystemError> {
    if InjectedFaults.areArmed, let injected = InjectedFaults.errno(for: operation, path: path()) {
        return .failure(FileSystemError(operation, path(), injected, origin: origin))
    }
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno(rawValue: errno)
        if retryOnInterrupt && error == .interrupted { continue }
        return .failure(FileSystemError(operation, path(), error, origin: origin))
    }
}

/// Which tree a handle reaches (the source, the sink): the errors its calls
/// raise carry it, so whose failure an error is (skip one source file, or
/// stop because the sink failed) is decided by where it was raised. A
/// plain code, so that handing it to every handle and file costs nothing;
/// EmuCore names the codes.
public struct Origin: Hashable, Sendable {
    public let code: UInt8
    public init(code: UInt8) { self.code = code }
    public static let unspecified = Origin(code: 0)
}

/// A failed filesystem call: what was attempted, on which path, in which
/// tree, and why.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: [UInt8]
    public let errno: Errno
    public let origin: Origin

    public init(_ operation: String, _ path: [UInt8], _ errno: Errno, origin: Origin = .unspecified) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.origin = origin
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
