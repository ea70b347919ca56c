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
