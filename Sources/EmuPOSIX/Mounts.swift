import Glibc
import SystemPackage

/// One line of `/proc/self/mountinfo`: what is mounted where.
public struct MountEntry: Sendable, Equatable {
    /// Where it is mounted (absolute, as the kernel names it).
    public var mountPoint: String
    /// The directory of its filesystem that appears there (`/` unless a bind mount of a subdirectory).
    public var root: String
    /// `ext4`, `fuse.sshfs`, ...
    public var type: String
    /// What was mounted: a device, or `user@host:path` for sshfs.
    public var source: String
    public var readOnly: Bool

    /// Parses a line: `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER`.
    public init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count else { return nil }
        root = Self.unescaped(fields[3])
        mountPoint = Self.unescaped(fields[4])
        readOnly = fields[5].split(separator: ",").contains("ro")
        type = String(fields[dash + 1])
        source = Self.unescaped(fields[dash + 2])
    }

    /// The kernel writes space, tab, newline and backslash as `\ooo`.
    static func unescaped(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(fileSystemBytes: bytes)
    }

    /// Every mount this process sees, in mount order.
    public static func all() throws -> [MountEntry] {
        let text = try readUserFile("/proc/self/mountinfo")
        return text.split(separator: UInt8(ascii: "\n")).compactMap {
            MountEntry(line: Substring(String(decoding: $0, as: UTF8.self)))
        }
    }

    /// What is mounted at `path` now (the last of several stacked mounts), or nil.
    public static func at(_ path: String) throws -> MountEntry? {
        let point = resolvedPath(path) ?? absolutePath(path)
        return try all().last { $0.mountPoint == point }
    }
}

/// Mounts `directory` again at `target`, read-only: a bind mount, then
/// its remount read-only (a bind mount takes the flag only on remount).
/// Needs CAP_SYS_ADMIN.
public func bindMountReadOnly(_ directory: String, at target: String) throws {
    try directory.fileSystemBytes.withCString { from in
        try target.fileSystemBytes.withCString { to in
            guard mount(from, to, nil, UInt(MS_BIND), nil) == 0 else { throw FileSystemError("mount --bind", target.fileSystemBytes, Errno(rawValue: errno)) }
            guard mount(nil, to, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil) == 0 else {
                let failure = FileSystemError("mount -o remount,ro", target.fileSystemBytes, Errno(rawValue: errno))
                umount2(to, 0)
                throw failure
            }
        }
    }
}

/// Unmounts what is mounted at `target`.
public func unmount(_ target: String) throws {
    guard target.fileSystemBytes.withCString({ umount2($0, 0) }) == 0 else {
        throw FileSystemError("umount", target.fileSystemBytes, Errno(rawValue: errno))
    }
}

/// The first executable named `name` in `$PATH`, or nil.
public func programInPath(_ name: String) -> String? {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") where directory.hasPrefix("/") {
        let candidate = "\(directory)/\(name)"
        if access(candidate, X_OK) == 0, !isDirectory(candidate) { return candidate }
    }
    return nil
}
