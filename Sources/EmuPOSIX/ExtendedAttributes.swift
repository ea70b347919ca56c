import CEmuShims
import Glibc
import SystemPackage

/// Where extended attributes are read or written: an open regular file or
/// directory, or a path (through /proc/self/fd) for symlinks and devices,
/// which cannot be opened for I/O.
public enum AttributeTarget {
    case descriptor(FileDescriptor)
    case path([UInt8])
}

/// One extended attribute: its name and its value, both raw bytes.
public struct ExtendedAttribute: Hashable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// The names that hold POSIX ACLs; libacl copies those.
    public static let accessACL = Array("system.posix_acl_access".utf8)
    public static let defaultACL = Array("system.posix_acl_default".utf8)

    public var isACL: Bool { name == Self.accessACL || name == Self.defaultACL }
}

/// Extended attributes through libattr's rules: what /etc/xattr.conf says to
/// skip is neither read nor copied, ACLs are left to `AccessControlList`.
public enum ExtendedAttributes {
    /// The names of every attribute (ACL ones included), sorted by bytes.
    public static func names(of target: AttributeTarget, path: [UInt8]) throws -> [[UInt8]] {
        let raw = try growingRead("list attributes of", path) { buffer, capacity in
            switch target {
            case .descriptor(let fd): flistxattr(fd.rawValue, buffer, capacity)
            case .path(let p): p.withCString { llistxattr($0, buffer, capacity) }
            }
        }
        return raw.split(separator: 0).map { Array($0) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The value of one attribute.
    public static func value(of name: [UInt8], target: AttributeTarget, path: [UInt8]) throws -> [UInt8] {
        try growingRead("read attribute of", path) { buffer, capacity in
            name.withCString { n in
                switch target {
                case .descriptor(let fd): fgetxattr(fd.rawValue, n, buffer, capacity)
                case .path(let p): p.withCString { lgetxattr($0, n, buffer, capacity) }
                }
            }
        }
    }

    /// Every attribute a snapshot keeps, sorted by name: xattr.conf's skips
    /// are left out, ACLs are in (as raw values, for comparing).
    public static func read(_ target: AttributeTarget, path: [UInt8]) throws -> [ExtendedAttribute] {
        var result: [ExtendedAttribute] = []
        for name in try names(of: target, path: path) {
            let attribute = ExtendedAttribute(name: name, value: [])
            guard attribute.isACL || shouldCopy(name) else { continue }
            do {
                result.append(ExtendedAttribute(name: name, value: try value(of: name, target: target, path: path)))
            } catch let error as FileSystemError where error.errno == .noData {
                continue  // removed between list and get
            }
        }
        return result
    }

    /// Sets the attributes on `target`: the plain ones, and the raw ACL ones
    /// only when asked (ACLs normally go through `AccessControlList`).
    public static func write(_ attributes: [ExtendedAttribute], to target: AttributeTarget, path: [UInt8], includingACLs: Bool = false) throws {
        for attribute in attributes where includingACLs || !attribute.isACL {
            _ = try valueOrErrno {
                attribute.name.withCString { n in
                    attribute.value.withUnsafeBytes { v in
                        switch target {
                        case .descriptor(let fd): fsetxattr(fd.rawValue, n, v.baseAddress, v.count, 0)
                        case .path(let p): p.withCString { lsetxattr($0, n, v.baseAddress, v.count, 0) }
                        }
                    }
                }
            }.get("set attribute \(Printable.path(attribute.name)) of", path)
        }
    }

    /// Removes the attributes a snapshot would keep (ACLs included) that are
    /// not named in `keeping`: what mending an existing entry's metadata
    /// must take away. An attribute already gone is no error.
    public static func removeOthers(keeping: [ExtendedAttribute], from target: AttributeTarget, path: [UInt8]) throws {
        let kept = Set(keeping.map(\.name))
        for name in try names(of: target, path: path) where !kept.contains(name) {
            let attribute = ExtendedAttribute(name: name, value: [])
            guard attribute.isACL || shouldCopy(name) else { continue }
            let result = valueOrErrno {
                name.withCString { n in
                    switch target {
                    case .descriptor(let fd): fremovexattr(fd.rawValue, n)
                    case .path(let p): p.withCString { lremovexattr($0, n) }
                    }
                }
            }
            if case .failure(let error) = result, error == .noData { continue }
            _ = try result.get("remove attribute \(Printable.path(name)) of", path)
        }
    }

    /// Whether /etc/xattr.conf (through libattr) lets this attribute be copied.
    public static func shouldCopy(_ name: [UInt8]) -> Bool {
        name.withCString { emu_xattr_should_copy($0) } != 0
    }

    /// Calls a list/get function with a growing buffer: it can answer ERANGE
    /// when the value grew between the size query and the read.
    static func growingRead(
        _ operation: String, _ path: [UInt8],
        _ call: (UnsafeMutablePointer<CChar>?, Int) -> Int
    ) throws -> [UInt8] {
        var capacity = 1024
        while true {
            var tooSmall = false
            let bytes = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                let pointer = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                switch valueOrErrno({ call(pointer, capacity) }) {
                case .success(let n): count = n
                case .failure(.outOfRange): count = 0; tooSmall = true
                case .failure(.notSupported): count = 0
                case .failure(let error): throw FileSystemError(operation, path, error)
                }
            }
            if !tooSmall { return bytes }
            let needed = call(nil, 0)
            capacity = max(capacity * 2, needed + 64)
            if capacity > 64 << 20 { throw FileSystemError(operation, path, .outOfRange) }
        }
    }
}

/// POSIX ACLs through libacl.
public enum AccessControlList {
    /// Copies the access ACL (and a directory's default ACL) from one open
    /// entry to another; call after setting the mode, which it refines.
    public static func copy(
        from source: FileDescriptor, sourceProcPath: [UInt8],
        to destination: FileDescriptor, destinationProcPath: [UInt8],
        hasAccess: Bool, hasDefault: Bool, path: [UInt8]
    ) throws {
        if hasAccess {
            _ = try valueOrErrno { emu_acl_copy_access_fd(source.rawValue, destination.rawValue) }
                .get("copy ACL of", path)
        }
        if hasDefault {
            _ = try valueOrErrno {
                sourceProcPath.withCString { s in destinationProcPath.withCString { emu_acl_copy_default(s, $0) } }
            }.get("copy default ACL of", path)
        }
    }

    /// The short text form of an access ACL ("u::rw-,u:1000:r--,..."), for tests and display.
    public static func accessText(_ fd: FileDescriptor, path: [UInt8]) throws -> String {
        guard let text = emu_acl_access_text(fd.rawValue) else {
            throw FileSystemError("read ACL of", path, Errno(rawValue: errno))
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// The short text form of a directory's default ACL ("" when it has none).
    public static func defaultText(procPath: [UInt8], path: [UInt8]) throws -> String {
        guard let text = procPath.withCString({ emu_acl_default_text($0) }) else {
            throw FileSystemError("read default ACL of", path, Errno(rawValue: errno))
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// Sets an access ACL from its text form.
    public static func setAccess(_ text: String, on fd: FileDescriptor, path: [UInt8]) throws {
        _ = try valueOrErrno { emu_acl_set_access_text(fd.rawValue, text) }.get("set ACL of", path)
    }

    /// Sets a directory's default ACL from its text form.
    public static func setDefault(_ text: String, procPath: [UInt8], path: [UInt8]) throws {
        _ = try valueOrErrno { procPath.withCString { emu_acl_set_default_text($0, text) } }
            .get("set default ACL of", path)
    }
}
